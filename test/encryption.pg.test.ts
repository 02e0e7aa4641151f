import { encryptionSpecs } from './encryption.specs.js';

encryptionSpecs('pgsql');
