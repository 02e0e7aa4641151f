import { queueSpecs } from './queue-commands.queues.specs.js';

queueSpecs('pgsql');
