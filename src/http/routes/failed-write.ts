import { failedJobArguments, sinceFlag } from '../../failed/flags.js';
import { retryFailedJobs, type Kept, type Retried, type RetryDeps } from '../../failed/retry.js';
import { DatabaseFailedJobStore, type FailedFilter, type FailedJob } from '../../failed/store.js';
import { nameFlag, queueFlag } from '../../queue/names.js';
import { jsonBody, limitBody } from '../body.js';
import type { DashboardDeps, RouteModule } from '../context.js';
import { HttpError, notFound } from '../errors.js';
import { fromUsage } from '../usage.js';

/**
 * Writes on failed jobs, as queue:retry and queue:forget do them:
 * - POST /api/failed/{id}/retry → `{ id, retried: true, jobId }` (id or uuid; 404 when unknown;
 *   409 `unique_key_held` when another live job holds its unique key: the row stays).
 * - POST /api/failed/{id}/forget → `{ id, forgotten: true }` (404 when unknown).
 * - POST /api/failed/retry, body `{ queue?, name?, since? }` (since: ISO 8601 or a duration back
 *   from now, `2h`) → `{ retried, skipped }`: every matching failed job, read and moved in pages
 *   as `queue:retry all` does (never the whole table at once); `skipped` counts those kept
 *   because their unique key is held. `{}` retries every failed job; an empty body is a 400.
 */
export const failedWriteRoutes: RouteModule = (api, deps) => {
  api.post('/failed/retry', limitBody, async (c) => {
    const body = await jsonBody(c, undefined);
    // "Retry everything" must be asked for: an empty body is more often a client that lost it
    // (a body parser in front of a mounted dashboard) than a wish.
    if (body === undefined) {
      throw new HttpError(
        400,
        'bad_request',
        'The body is empty: send a JSON object, {} to retry every failed job or { queue, name, since } to retry those that match.',
      );
    }
    const filter = retryFilter(body);
    const counts = await retryFailedJobs(await retryDeps(deps), filter);
    deps.snapshot.refreshSoon();
    return c.json({ retried: counts.retried, skipped: counts.kept });
  });

  api.post('/failed/:id/retry', async (c) => {
    const row = await findFailed(deps, c.req.param('id'));
    let retried: Retried | undefined;
    let kept: Kept | undefined;
    await retryFailedJobs(
      await retryDeps(deps),
      { ids: [row.id] },
      { onRetried: (r) => (retried = r), onKept: (k) => (kept = k) },
    );
    deps.snapshot.refreshSoon();
    if (kept) {
      throw new HttpError(
        409,
        'unique_key_held',
        `Failed job #${row.id} is kept: its unique key ${JSON.stringify(kept.key)} is held by job #${kept.heldBy}. Retry it once that job is done, or forget it.`,
      );
    }
    // Gone between the read and the retry: another retry (or forget) took it first.
    if (!retried)
      throw notFound(`No failed job "${row.id}": it was retried or forgotten meanwhile.`);
    return c.json({ id: row.id, retried: true, jobId: retried.jobId ?? null });
  });

  api.post('/failed/:id/forget', async (c) => {
    const row = await findFailed(deps, c.req.param('id'));
    const store = new DatabaseFailedJobStore((await deps.app.db()).knex);
    if ((await store.forget([row.id])) === 0) {
      throw notFound(`No failed job "${row.id}": it was retried or forgotten meanwhile.`);
    }
    deps.snapshot.refreshSoon();
    return c.json({ id: row.id, forgotten: true });
  });
};

async function findFailed(deps: DashboardDeps, ref: string): Promise<FailedJob> {
  const [checked] = fromUsage(() => failedJobArguments([ref]));
  const store = new DatabaseFailedJobStore((await deps.app.db()).knex);
  const row = await store.find(checked!);
  if (!row) throw notFound(`No failed job with id or uuid "${ref}".`);
  return row;
}

async function retryDeps(deps: DashboardDeps): Promise<RetryDeps> {
  const db = await deps.app.db();
  return {
    db,
    store: new DatabaseFailedJobStore(db.knex),
    registry: await deps.app.registry(),
    driver: (connection) => deps.app.queues().get(connection),
  };
}

const FILTER_KEYS = ['queue', 'name', 'since'];

/** The body of POST /failed/retry, checked as queue:retry checks its flags. */
function retryFilter(body: unknown): FailedFilter {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new HttpError(
      400,
      'bad_request',
      'The body must be a JSON object: { queue?, name?, since? }.',
    );
  }
  const fields = body as Record<string, unknown>;
  const unknown = Object.keys(fields).find((k) => !FILTER_KEYS.includes(k));
  if (unknown !== undefined) {
    throw new HttpError(
      400,
      'bad_request',
      `${unknown}: not a filter of failed jobs; the filters are ${FILTER_KEYS.join(', ')}.`,
    );
  }
  const text = (key: string): string | undefined => {
    const value = fields[key];
    if (value === undefined || value === null || value === '') return undefined;
    if (typeof value !== 'string') {
      throw new HttpError(400, 'bad_request', `${key}: must be a string, got ${typeof value}.`);
    }
    return value;
  };
  const filter: FailedFilter = {};
  const queue = text('queue');
  const name = text('name');
  const since = text('since');
  if (queue !== undefined) filter.queue = fromUsage(() => queueFlag('queue')(queue));
  if (name !== undefined) filter.name = fromUsage(() => nameFlag('name')(name));
  if (since !== undefined) filter.since = fromUsage(() => sinceFlag('since')(since));
  return filter;
}
