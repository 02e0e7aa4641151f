import { crashIsolationSpecs } from './crash-isolation.specs.js';

crashIsolationSpecs('pgsql');
