import { chainSpecs } from './chains.specs.js';

chainSpecs('redis');
