import { signalSpecs } from './signals.specs.js';

signalSpecs('redis');
