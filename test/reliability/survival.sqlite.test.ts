import { survivalSpecs } from './survival.specs.js';

survivalSpecs('sqlite');
