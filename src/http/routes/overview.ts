import { readOverview } from '../../metrics/overview.js';
import type { RouteModule } from '../context.js';
import { badParam } from '../errors.js';
import { durationParam, onlyParams } from '../params.js';

/** Default range: the last hour. */
export const DEFAULT_SINCE_MS = 3_600_000;
/** The longest range the overview charts: a point a minute, at most a week of them. */
const MAX_OVERVIEW_MS = 7 * 24 * 3_600_000;

/**
 * GET /api/overview?since=1h: `{ queues, failed, workers, totals, series }` (src/metrics/
 * overview.ts); `since` a duration back from now, at most 7d. `queues` and `failed` are the
 * snapshot's (src/http/snapshot.ts; header `X-Read-At` says when, epoch ms).
 */
export const overviewRoutes: RouteModule = (api, deps) => {
  api.get('/overview', async (c) => {
    onlyParams(c, ['since']);
    const back = durationParam(c, 'since') ?? DEFAULT_SINCE_MS;
    if (back <= 0 || back > MAX_OVERVIEW_MS) {
      throw badParam('since', c.req.query('since') ?? '', 'a duration from 1s to 7d');
    }
    // Queue counts are the snapshot's (a few seconds old at most): no request counts jobs.
    const snapshot = await deps.snapshot.get();
    const knex = (await deps.app.db()).knex;
    c.header('X-Read-At', String(snapshot.at));
    return c.json(await readOverview(knex, snapshot.queues, Date.now() - back));
  });
};
