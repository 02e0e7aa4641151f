import { scheduledSpecs } from './telegram.scheduled.specs.js';

scheduledSpecs('redis');
