import { rateLimitSpecs } from './rate-limits.specs.js';

rateLimitSpecs('pgsql');
