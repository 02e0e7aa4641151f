import { leaseSpecs } from './leases.specs.js';

leaseSpecs('sqlite');
