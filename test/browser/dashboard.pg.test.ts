import { describeBackend } from '../helpers/app.js';
import { describeWithTools } from '../helpers/tools.js';
import { dashboardSpecs } from './dashboard.specs.js';

describeBackend('pgsql', 'dashboard', () =>
  describeWithTools(['chromium'], 'in Chromium', () => dashboardSpecs('pgsql')),
);
