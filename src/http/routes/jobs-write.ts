import { cancelAndRecord, cancelOutcomeJson } from '../../cancel/cancel-and-record.js';
import { dashboardActor } from '../actor.js';
import { retentionTable } from '../../history/attach.js';
import { deleteJobs, promoteJobs } from '../../queue/admin/promote-delete.js';
import type { Context } from 'hono';
import type { RouteModule } from '../context.js';
import { badParam, HttpError, notFound } from '../errors.js';
import { MAX_PARAM_LENGTH } from '../params.js';

/**
 * Writes on one live job, as the commands do them (same `--json` shapes):
 * - POST /api/jobs/{id}/cancel → queue:cancel's `{ id, outcome: 'cancelled', name, queue, state }`
 *   for a waiting job (deleted, recorded in the history) or `{ id, outcome: 'cancel_requested' }`
 *   for a running one (its signal aborts within about a second); 404 when no live job has the id.
 * - POST /api/jobs/{id}/promote → queue:promote's `{ promoted, skipped, missing }`: a delayed job
 *   runs now; one that is not delayed comes back in `skipped`. 404 when no live job has the id.
 * - POST /api/jobs/{id}/delete → queue:delete's `{ deleted, running, missing }` for a waiting
 *   job; 409 `running` for a job a worker holds (cancel it instead); 404 when unknown.
 */
export const jobWriteRoutes: RouteModule = (api, deps) => {
  const driver = () => deps.app.queues().get(deps.connection);

  api.post('/jobs/:id/cancel', async (c) => {
    const id = jobId(c);
    const [outcome] = await cancelAndRecord(
      {
        driver: await driver(),
        knex: async () => (await deps.app.db()).knex,
        retention: async () =>
          retentionTable(await deps.app.registry(), (await deps.app.config()).config.queues),
      },
      { ids: [id] },
      // Who asked, as far as the dashboard knows: not the server's own user.
      dashboardActor(c),
    );
    deps.snapshot.refreshSoon();
    if (!outcome || outcome.outcome === 'not_found') throw noLiveJob(id);
    return c.json(cancelOutcomeJson(outcome));
  });

  api.post('/jobs/:id/promote', async (c) => {
    const id = jobId(c);
    const result = await promoteJobs(await driver(), [id]);
    deps.snapshot.refreshSoon();
    if (result.missing.length > 0) throw noLiveJob(id);
    return c.json(result);
  });

  api.post('/jobs/:id/delete', async (c) => {
    const id = jobId(c);
    const result = await deleteJobs(await driver(), [id]);
    deps.snapshot.refreshSoon();
    if (result.missing.length > 0) throw noLiveJob(id);
    if (result.running.length > 0) {
      throw new HttpError(
        409,
        'running',
        `Job ${id} is in progress and not deleted: cancel it (POST /api/jobs/${id}/cancel).`,
      );
    }
    return c.json(result);
  });
};

function jobId(c: Context): string {
  const id = c.req.param('id') ?? '';
  if (id.trim() === '' || id.length > MAX_PARAM_LENGTH) {
    throw badParam('id', id, 'a job id, as GET /api/jobs shows them');
  }
  return id;
}

function noLiveJob(id: string): HttpError {
  return notFound(`No waiting or running job has the id "${id}".`);
}
