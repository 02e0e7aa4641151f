import { batchCommandSpecs } from './batch-commands.specs.js';

batchCommandSpecs('redis');
