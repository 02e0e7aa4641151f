import { intakeSpecs } from './telegram.intake.specs.js';

intakeSpecs('pgsql');
