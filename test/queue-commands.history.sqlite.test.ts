import { historySpecs } from './queue-commands.history.specs.js';

historySpecs('sqlite');
