import { chainHandoffSpecs } from './chains.handoff.specs.js';

chainHandoffSpecs('sqlite');
