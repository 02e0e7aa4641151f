import { jobSpecs } from './queue-commands.jobs.specs.js';

jobSpecs('redis');
