import { historyJson } from '../../history/present.js';
import { FINAL_STATUSES } from '../../history/retention.js';
import { historyKey, listHistory, type HistoryKey } from '../../history/store.js';
import type { RouteModule } from '../context.js';
import { cursorParam, encodeCursor } from '../cursor.js';
import { jobNameParam, queueParam, sinceParam, tagParam } from '../filters.js';
import { choiceParam, limitParam, onlyParams } from '../params.js';

/**
 * GET /api/history?queue&name&status&tag&since&limit&after: finished jobs newest first, as
 * `queue:history --json` rows, `{ jobs: historyJson[], next: cursor | null }`.
 */
export const historyRoutes: RouteModule = (api, deps) => {
  api.get('/history', async (c) => {
    onlyParams(c, ['queue', 'name', 'status', 'tag', 'since', 'limit', 'after']);
    const filter = {
      queue: queueParam(c),
      name: jobNameParam(c),
      status: choiceParam(c, 'status', FINAL_STATUSES),
      tag: tagParam(c),
      since: sinceParam(c),
    };
    const limit = limitParam(c);
    const before = cursorParam(c, readKey);
    const found = await listHistory((await deps.app.db()).knex, filter, limit + 1, before);
    const rows = found.slice(0, limit);
    const next = found.length > limit ? encodeCursor(c, historyKey(rows[rows.length - 1]!)) : null;
    return c.json({ jobs: rows.map(historyJson), next });
  });
};

function readKey(value: unknown): HistoryKey | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { finishedAt, id, connection } = value as Record<string, unknown>;
  if (typeof finishedAt !== 'number' || !Number.isSafeInteger(finishedAt)) return undefined;
  if (typeof id !== 'string' || typeof connection !== 'string') return undefined;
  if (id.length > 200 || connection.length > 64) return undefined;
  return { finishedAt, id, connection };
}
