import { ABOVE_PRIORITIES, type Edge, type PageReader, type Stretch } from './job-page-walk.js';
import type { Statements } from './sqlite-sql.js';

/** listPage's filters, the named parameters of PAGE_FILTER (sqlite-sql.ts). */
export interface SqlitePageFilter {
  /** Epoch ms, read once for the request. */
  now: number;
  state: string | null;
  tag: string | null;
  name: string | null;
}

/** listPage's statements on SQLite for one request (job-page-walk.ts). */
export function sqlitePageReader(
  sql: Statements,
  queue: string,
  filter: SqlitePageFilter,
): PageReader<Record<string, unknown>> {
  const at = (s: Stretch) => ({ queue, priority: s.priority, ready_at: s.readyAt, id: s.id });
  return {
    async topPriority(below) {
      const row = sql.pageTop.get({ queue, below: below ?? ABOVE_PRIORITIES }) as {
        priority: number | null;
      };
      return row.priority;
    },
    async edge(s, count) {
      const row = sql.pageEdge.get({ ...at(s), below: s.below, count }) as Edge | undefined;
      return row ?? { n: 0, readyAt: 0, id: 0 };
    },
    async matches(s, last, want) {
      return sql.pageRows.all({
        ...at(s),
        ...filter,
        last_ready_at: last.readyAt,
        last_id: last.id,
        want,
      }) as Array<Record<string, unknown>>;
    },
  };
}
