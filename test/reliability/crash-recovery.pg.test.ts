import { crashRecoverySpecs } from './crash-recovery.specs.js';

crashRecoverySpecs('pgsql');
