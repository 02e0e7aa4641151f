import { batchCommandSpecs } from './batch-commands.specs.js';

batchCommandSpecs('pgsql');
