import { poisonSpecs } from './poison.specs.js';

poisonSpecs('redis');
