import { claimerSpecs } from './claimers.specs.js';

claimerSpecs('redis');
