/*
 * `run queue:list --tag T` without a queue: the jobs carrying a tag wherever they wait, as an
 * operator asks "where are the jobs of post 42?" before knowing their queues.
 */
import type { JobRow, JobState, QueueDriver } from '../driver.js';

/**
 * One page of the jobs carrying `tag` in every queue of `driver` that holds jobs, oldest first
 * (dispatch time, then id): each queue's first `offset + limit` matching jobs, merged, then the
 * page cut from them. Each queue's listing is the driver's own `list` with the tag filter, so it
 * is bounded as that is, and a page past the first reads the pages before it again.
 */
export async function listTaggedEverywhere(
  driver: QueueDriver,
  tag: string,
  state: JobState | undefined,
  offset: number,
  limit: number,
): Promise<JobRow[]> {
  const rows: JobRow[] = [];
  // One queue at a time: an operator's listing, not worth a burst on a busy storage.
  for (const queue of await driver.queues()) {
    rows.push(...(await driver.list(queue, state, 0, offset + limit, { tag })));
  }
  rows.sort((a, b) => a.createdAt - b.createdAt || compareIds(a.id, b.id));
  return rows.slice(offset, offset + limit);
}

/** SQL ids are numbers in text; Redis ids are `<queue>:<n>`: by number where both are. */
function compareIds(a: string, b: string): number {
  const x = Number(a);
  const y = Number(b);
  if (Number.isInteger(x) && Number.isInteger(y)) return x - y;
  return a < b ? -1 : a > b ? 1 : 0;
}
