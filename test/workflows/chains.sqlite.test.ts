import { chainSpecs } from './chains.specs.js';

chainSpecs('sqlite');
