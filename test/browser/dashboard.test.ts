import { describeWithTools } from '../helpers/tools.js';
import { dashboardSpecs } from './dashboard.specs.js';

describeWithTools(['chromium'], 'dashboard in Chromium (sqlite)', () =>
  dashboardSpecs('sqlite', { readOnly: true }),
);
