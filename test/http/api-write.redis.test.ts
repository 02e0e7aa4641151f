import { apiWriteSpecs } from './api-write.specs.js';

apiWriteSpecs('redis');
