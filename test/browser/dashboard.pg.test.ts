// The dashboard on PostgreSQL: the pages that show or change what the storage holds. The cases
// of the page itself run once, in dashboard.test.ts (see dashboard.specs.ts).
import { describeBackend } from '../helpers/app.js';
import { describeWithTools } from '../helpers/tools.js';
import { dashboardSpecs } from './dashboard.specs.js';

describeBackend('pgsql', 'dashboard', () =>
  describeWithTools(['chromium'], 'in Chromium', () =>
    dashboardSpecs('pgsql', { storageViewsOnly: true }),
  ),
);
