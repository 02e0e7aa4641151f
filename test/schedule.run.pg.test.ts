import { scheduleRunSpecs } from './schedule.run.specs.js';

scheduleRunSpecs('pgsql');
