import { scheduleWithRuns } from '../../schedule/open.js';
import { entryJson } from '../../schedule/present.js';
import type { RouteModule } from '../context.js';
import { intParam, onlyParams } from '../params.js';

/**
 * GET /api/schedule?next=1: `schedule:list --json --next N`, the config's entries, each with
 * its next N run times (`next`, ISO 8601 UTC; N from 1 to 100, default 1).
 */
export const scheduleRoutes: RouteModule = (api, deps) => {
  api.get('/schedule', async (c) => {
    onlyParams(c, ['next']);
    const count = intParam(c, 'next', { min: 1, max: 100, default: 1 })!;
    const { rows } = await scheduleWithRuns(deps.app, count);
    return c.json(rows.map((r) => entryJson(r.entry, r.next)));
  });
};
