import { senderSpecs } from './telegram.sender.specs.js';

senderSpecs('pgsql');
