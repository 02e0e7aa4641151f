import { apiWriteSpecs } from './api-write.specs.js';

apiWriteSpecs('sqlite');
