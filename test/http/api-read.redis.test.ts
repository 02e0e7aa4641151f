import { apiReadSpecs } from './api-read.specs.js';

apiReadSpecs('redis');
