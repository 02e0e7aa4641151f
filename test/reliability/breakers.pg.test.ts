import { breakerSpecs } from './breakers.specs.js';

breakerSpecs('pgsql');
