import { gptCompleteSpecs } from './gpt.complete.specs.js';

gptCompleteSpecs('sqlite');
