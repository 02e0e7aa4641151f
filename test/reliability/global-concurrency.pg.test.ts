import { globalConcurrencySpecs } from './global-concurrency.specs.js';

globalConcurrencySpecs('pgsql');
