import { crashRecoverySpecs } from './crash-recovery.specs.js';

crashRecoverySpecs('sqlite');
