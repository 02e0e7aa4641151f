import { readStats } from '../../metrics/stats.js';
import type { RouteModule } from '../context.js';
import { queueParam, sinceParam } from '../filters.js';
import { choiceParam, onlyParams } from '../params.js';
import { DEFAULT_SINCE_MS } from './overview.js';

/**
 * GET /api/stats?since=1h&by=queue|job&queue=Q: `queue:stats --json`,
 * `{ since, until, by, rows }`; `since` an ISO date/time or a duration back from now (1h by
 * default), `by` queue by default.
 */
export const statsRoutes: RouteModule = (api, deps) => {
  api.get('/stats', async (c) => {
    onlyParams(c, ['since', 'by']);
    const since = sinceParam(c, 'since', DEFAULT_SINCE_MS)!;
    const by = choiceParam(c, 'by', ['queue', 'job'] as const) ?? 'queue';
    const queue = queueParam(c);
    const report = await readStats((await deps.app.db()).knex, {
      since: since.getTime(),
      by,
      queue,
    });
    return c.json(report);
  });
};
