import { signalSpecs } from './signals.specs.js';

signalSpecs('pgsql');
