import { failedJobJson } from '../../failed/present.js';
import { DatabaseFailedJobStore, type FailedFilter } from '../../failed/store.js';
import type { RouteModule } from '../context.js';
import { cursorParam, encodeCursor, idCursor } from '../cursor.js';
import { notFound } from '../errors.js';
import { jobNameParam, queueParam, sinceParam } from '../filters.js';
import { limitParam, onlyParams, stringParam } from '../params.js';

const FAILED_REF = /^(\d{1,15}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i;

/**
 * GET /api/failed?queue&name&since&search&limit&after: failed jobs oldest first, as
 * `queue:failed --json` rows, `{ jobs: failedJobJson[], next: cursor | null }`. `since` is an
 * ISO date/time or a duration back from now; `search` matches text in the exception or the
 * payload (any case), reading a bounded window of rows per page (so a page may be short and
 * still have a `next`).
 *
 * GET /api/failed/{id or uuid}: one failed job, its whole exception (stack) included, masked;
 * 404 when unknown.
 */
export const failedReadRoutes: RouteModule = (api, deps) => {
  api.get('/failed', async (c) => {
    onlyParams(c, ['queue', 'name', 'since', 'search', 'limit', 'after']);
    const filter: FailedFilter = {
      queue: queueParam(c),
      name: jobNameParam(c),
      since: sinceParam(c),
    };
    const search = stringParam(c, 'search');
    const limit = limitParam(c);
    const after = cursorParam(c, idCursor) ?? 0;
    const store = new DatabaseFailedJobStore((await deps.app.db()).knex);
    let rows;
    let next: number | null;
    if (search !== undefined) {
      ({ rows, next } = await store.searchPage(filter, search, after, limit));
    } else {
      const found = await store.page(filter, after, limit + 1);
      rows = found.slice(0, limit);
      next = found.length > limit ? rows[rows.length - 1]!.id : null;
    }
    return c.json({
      jobs: rows.map(failedJobJson),
      next: next === null ? null : encodeCursor(c, next),
    });
  });

  api.get('/failed/:id', async (c) => {
    onlyParams(c, []);
    const id = c.req.param('id');
    const store = new DatabaseFailedJobStore((await deps.app.db()).knex);
    const row = FAILED_REF.test(id) ? await store.find(id) : undefined;
    if (!row) throw notFound(`No failed job "${id.slice(0, 40)}".`);
    return c.json(failedJobJson(row));
  });
};
