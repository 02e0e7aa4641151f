import { alertCheckSpecs } from './alerts.check.specs.js';

alertCheckSpecs('pgsql');
