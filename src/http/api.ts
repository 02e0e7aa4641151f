import { Hono } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { DashboardDeps, RouteModule } from './context.js';
import { errorBody, HttpError } from './errors.js';
import { dispatchRoutes } from './routes/dispatch.js';
import { failedReadRoutes } from './routes/failed-read.js';
import { failedWriteRoutes } from './routes/failed-write.js';
import { flowRoutes } from './routes/flow.js';
import { historyRoutes } from './routes/history.js';
import { integrationRoutes } from './routes/integrations.js';
import { jobRoutes } from './routes/jobs.js';
import { jobWriteRoutes } from './routes/jobs-write.js';
import { overviewRoutes } from './routes/overview.js';
import { queueRoutes } from './routes/queues.js';
import { scheduleRoutes } from './routes/schedule.js';
import { sessionRoutes } from './routes/session.js';
import { statsRoutes } from './routes/stats.js';
import { workerRoutes } from './routes/workers.js';

/** The route modules, each in routes/: a new group of endpoints is one more line here. */
const ROUTES: RouteModule[] = [
  sessionRoutes,
  queueRoutes,
  jobRoutes,
  failedReadRoutes,
  historyRoutes,
  overviewRoutes,
  statsRoutes,
  workerRoutes,
  scheduleRoutes,
  flowRoutes,
  integrationRoutes,
  failedWriteRoutes,
  jobWriteRoutes,
  dispatchRoutes,
];

/**
 * The JSON API under `{base}/api`. Shapes are those of the CLI's `--json` output (the same
 * presenters make both). Writes are POSTs; in read-only mode every one is refused with 403.
 */
export function createApi(deps: DashboardDeps): Hono {
  const api = new Hono();
  api.use('*', async (c, next) => {
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD' && deps.readOnly) {
      throw new HttpError(403, 'read_only', 'The dashboard is read-only: writes are refused.');
    }
    await next();
  });
  for (const register of ROUTES) register(api, deps);
  api.onError((error, c) => {
    if (error instanceof HttpError) {
      return c.json(errorBody(error.code, error.message), error.status as ContentfulStatusCode);
    }
    deps.onError?.(error);
    return c.json(errorBody('internal', 'The server failed to answer; see its log.'), 500);
  });
  return api;
}
