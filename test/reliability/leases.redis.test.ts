import { leaseSpecs } from './leases.specs.js';

leaseSpecs('redis');
