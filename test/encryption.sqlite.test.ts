import { encryptionSpecs } from './encryption.specs.js';

encryptionSpecs('sqlite');
