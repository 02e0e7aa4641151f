import { chainSpecs } from './chains.specs.js';

chainSpecs('pgsql');
