import { batchCommandSpecs } from './batch-commands.specs.js';

batchCommandSpecs('sqlite');
