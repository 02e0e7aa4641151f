import { withoutOverlappingSpecs } from './without-overlapping.specs.js';

withoutOverlappingSpecs('pgsql');
