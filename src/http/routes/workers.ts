import { workerJson } from '../../workers/present.js';
import { workersReport } from '../../workers/report.js';
import type { RouteModule } from '../context.js';
import { onlyParams } from '../params.js';

/**
 * GET /api/workers: `workers:list --json`, one row per registered worker (every connection):
 * `[{ id, name, host, pid, connection, queues, concurrency, started_at, uptime_ms,
 * heartbeat_at, heartbeat_age_ms, stale, processed, failed, running, current_jobs }]`.
 */
export const workerRoutes: RouteModule = (api, deps) => {
  api.get('/workers', async (c) => {
    onlyParams(c, []);
    const report = await workersReport((await deps.app.db()).knex);
    return c.json(report.map(workerJson));
  });
};
