import { failedSpecs } from './queue-commands.failed.specs.js';

failedSpecs('sqlite');
