import { queueUsageProblem } from '../../jobs/limits.js';
import { pausedQueues, setPaused } from '../../queue/control.js';
import { dashboardActor } from '../actor.js';
import type { RouteModule } from '../context.js';
import { HttpError } from '../errors.js';
import { onlyParams } from '../params.js';

/**
 * GET /api/queues: `queue:size --json`, one row per queue:
 * `[{ queue, pending, delayed, reserved, failed, paused }]`. The counts are the snapshot's (at
 * most a few seconds old; header `X-Read-At` says when, epoch ms); `paused` is read live.
 * POST /api/queues/{queue}/pause and /resume: `{ queue, paused }`, as queue:pause/queue:resume.
 */
export const queueRoutes: RouteModule = (api, deps) => {
  api.get('/queues', async (c) => {
    onlyParams(c, []);
    const [snapshot, paused] = await Promise.all([
      deps.snapshot.get(),
      deps.app.db().then(({ knex }) => pausedQueues(knex)),
    ]);
    const rows = snapshot.queues.map((row) => ({ ...row, paused: paused.has(row.queue) }));
    for (const queue of paused) {
      if (!rows.some((r) => r.queue === queue)) {
        rows.push({ queue, pending: 0, delayed: 0, reserved: 0, failed: 0, paused: true });
      }
    }
    c.header('X-Read-At', String(snapshot.at));
    return c.json(rows.sort((a, b) => (a.queue < b.queue ? -1 : a.queue > b.queue ? 1 : 0)));
  });
  for (const action of ['pause', 'resume'] as const) {
    api.post(`/queues/:queue/${action}`, async (c) => {
      const queue = c.req.param('queue');
      const problem = queueUsageProblem(queue, 'queue must be');
      if (problem) throw new HttpError(400, 'bad_request', problem);
      await setPaused((await deps.app.db()).knex, [queue], action === 'pause', dashboardActor(c));
      deps.snapshot.refreshSoon();
      return c.json({ queue, paused: action === 'pause' });
    });
  }
};
