import {
  LIST_PAGE_PRIORITIES,
  LIST_PAGE_WINDOW,
  type JobPageQuery,
  type JobState,
} from '../driver.js';
import { MAX_PRIORITY } from '../../jobs/limits.js';
import { endCursor, jobCursor, parseJobCursor, type JobPlace } from './job-keyset.js';

/*
 * How the SQL drivers' listPage reads a bounded page (QueueDriver.listPage): a loose index scan
 * of jobs_ready_idx (queue, priority desc, ready_at, id). Priorities are visited one after
 * another, each found by one probe (the highest priority below the last); within a priority the
 * page reads one stretch of ready_at from the cursor on, in the window's chunks: first how many
 * entries there are and where they end (index only), then the rows among them that pass the
 * filters, stopping at `limit + 1`. A request reads at most LIST_PAGE_WINDOW entries and visits
 * at most LIST_PAGE_PRIORITIES priorities, then stops with a `next` at the last place read.
 *
 * Why `delayed` and `pending` are stretches of ready_at (µs), so a page of them reads no other
 * jobs than the held ones: every write that leaves a job unreserved sets ready_at from the
 * available_at it sets, in [available_at × 1000, available_at × 1000 + 999]:
 *   - a push: ready_at = available_at × 1000 (pushMany, insertJob);
 *   - a put-back (release) and a promotion: READY_AT_BEHIND(at), which is at × 1000 plus at
 *     most 999 (reclaim.ts; sqlite-sql.ts release, admin/*-admin.ts promote);
 *   - queue:retry's move back from failed_jobs: available_at = now, ready_at = now × 1000
 *     (src/failed/retry-database.ts);
 *   - migration 0004 set ready_at = available_at × 1000 on every row.
 * Claims, lease extensions and progress writes leave ready_at alone; they set reserved_at. So
 * for a job that is not reserved, floor(ready_at / 1000) = available_at: delayed (available_at
 * > now) is exactly ready_at ≥ (now + 1) × 1000, and pending is ready_at below it. A job that
 * is reserved was claimed when due (available_at ≤ the claim's now ≤ now), so its ready_at is
 * below that bound too: a pending page's stretch holds the held jobs, a delayed page's holds
 * none (except rows held across migration 0004, whose ready_at came from their lease). The
 * state is checked again row by row (PAGE_FILTER), so a stretch only has to hold every job of
 * the state, which it does.
 */

/** Below every ready_at (µs of any Date); exactly representable, within a 64-bit integer. */
const FLOOR = -9e18;
/** Above every ready_at. */
const CEIL = 9e18;

/** Above every priority a job can have: `topPriority`'s bound for the highest. */
export const ABOVE_PRIORITIES = MAX_PRIORITY + 1;

/** One priority's entries after a key, with ready_at below `below`. */
export interface Stretch {
  priority: number;
  /** The exclusive lower bound on (ready_at, id). */
  readyAt: number;
  id: number;
  /** ready_at < below. */
  below: number;
}

/** Where a chunk of a stretch ends: `n` entries, the last at (readyAt, id); n = 0 for none. */
export interface Edge {
  n: number;
  readyAt: number;
  id: number;
}

/** The statements of one listPage request, its queue, clock and filters bound. */
export interface PageReader<R> {
  /** The queue's highest priority below `below` (any with null); null when there is none. */
  topPriority(below: number | null): Promise<number | null>;
  /** The first `count` entries of the stretch: how many there are, and the last. */
  edge(stretch: Stretch, count: number): Promise<Edge>;
  /** The stretch's rows through `last` that pass the filters, the first `want` in order. */
  matches(stretch: Stretch, last: Edge, want: number): Promise<R[]>;
}

/** The ready_at stretch that holds every job of a state (see above), `now` in epoch ms. */
export function readyStretch(
  state: JobState | undefined,
  now: number,
): { from: number; below: number } {
  const due = (now + 1) * 1000;
  if (state === 'delayed') return { from: due, below: CEIL };
  if (state === 'pending') return { from: FLOOR, below: due };
  return { from: FLOOR, below: CEIL };
}

/** The rows of one page and its `next`: at most query.limit rows, `next` null at the end. */
export async function walkPage<R extends Record<string, unknown>>(
  reader: PageReader<R>,
  query: JobPageQuery,
  now: number,
): Promise<{ rows: R[]; next: string | null }> {
  const { from, below } = readyStretch(query.state, now);
  // ids start at 1: (from, 0) comes before every entry whose ready_at is `from`.
  const floor = { readyAt: from, id: 0 };
  const start: JobPlace | undefined =
    query.after === undefined ? undefined : parseJobCursor(query.after);
  let priority =
    start === undefined || start.end
      ? await reader.topPriority(start?.priority ?? null)
      : start.priority;
  let after = start === undefined || start.end ? floor : later(start, floor);
  let budget = Math.max(LIST_PAGE_WINDOW, query.limit + 1);
  const found: R[] = [];
  for (let visited = 1; priority !== null; visited++) {
    const stretch: Stretch = { priority, ...after, below };
    // The first chunk is what the page still wants: an unfiltered page reads no more.
    for (let chunk = 0; ; chunk++) {
      const want = query.limit + 1 - found.length;
      const count = chunk === 0 ? Math.min(want, budget) : budget;
      const edge = await reader.edge(stretch, count);
      budget -= edge.n;
      if (edge.n === 0) break;
      found.push(...(await reader.matches(stretch, edge, want)));
      if (found.length > query.limit) {
        const rows = found.slice(0, query.limit);
        return { rows, next: jobCursor(rows[rows.length - 1]!) };
      }
      if (edge.n < count) break;
      if (budget === 0) {
        return { rows: found, next: jobCursor({ priority, ready_at: edge.readyAt, id: edge.id }) };
      }
      stretch.readyAt = edge.readyAt;
      stretch.id = edge.id;
    }
    if (visited === LIST_PAGE_PRIORITIES) return { rows: found, next: endCursor(priority) };
    priority = await reader.topPriority(priority);
    after = floor;
  }
  return { rows: found, next: null };
}

/** The later of two exclusive lower bounds on (ready_at, id). */
function later(
  a: { readyAt: number; id: number },
  b: { readyAt: number; id: number },
): { readyAt: number; id: number } {
  const aFirst = a.readyAt < b.readyAt || (a.readyAt === b.readyAt && a.id < b.id);
  return aFirst ? { readyAt: b.readyAt, id: b.id } : { readyAt: a.readyAt, id: a.id };
}
