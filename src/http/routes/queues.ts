import { queueUsageProblem } from '../../jobs/limits.js';
import { setPaused } from '../../queue/control.js';
import { queueReport } from '../../queue/sizes.js';
import type { RouteModule } from '../context.js';
import { HttpError } from '../errors.js';

/**
 * GET /api/queues: `queue:size --json`, one row per queue:
 * `[{ queue, pending, delayed, reserved, failed, paused }]`.
 * POST /api/queues/{queue}/pause and /resume: `{ queue, paused }`, as queue:pause/queue:resume.
 */
export const queueRoutes: RouteModule = (api, deps) => {
  api.get('/queues', async (c) => {
    const driver = await deps.app.queues().get(deps.connection);
    return c.json(await queueReport(driver, (await deps.app.db()).knex, []));
  });
  for (const action of ['pause', 'resume'] as const) {
    api.post(`/queues/:queue/${action}`, async (c) => {
      const queue = c.req.param('queue');
      const problem = queueUsageProblem(queue, 'queue must be');
      if (problem) throw new HttpError(400, 'bad_request', problem);
      await setPaused((await deps.app.db()).knex, [queue], action === 'pause', 'dashboard');
      return c.json({ queue, paused: action === 'pause' });
    });
  }
};
