import { hostname, userInfo } from 'node:os';
import type { JobRow, QueueDriver } from '../queue/driver.js';

/** What `run queue:cancel` did to one job. */
export type CancelOutcome =
  /** It was waiting (pending or delayed): deleted. */
  | { id: string; outcome: 'cancelled'; job: JobRow }
  /** A worker runs it: a cancel request is stored; its signal aborts within about a second. */
  | { id: string; outcome: 'cancel_requested' }
  | { id: string; outcome: 'not_found' };

/**
 * Which jobs to cancel: ids, every live job of one name in one queue, or every live job with a
 * tag (in one queue, or in all).
 */
export type CancelTarget =
  { ids: string[] } | { queue: string; name: string } | { tag: string; queue?: string };

/** Ids per cancel call and rows per listing page: bounded statements and memory per step. */
const CHUNK = 500;

/**
 * Cancels the jobs `target` names (docs/lifecycle.md, "Cancelling jobs"), in chunks, and says
 * what became of each, in the order given (by name: in run order).
 */
export async function cancelJobs(
  driver: QueueDriver,
  target: CancelTarget,
  reason: string,
): Promise<CancelOutcome[]> {
  const ids =
    'ids' in target
      ? [...new Set(target.ids)]
      : 'tag' in target
        ? await idsOfTag(driver, target)
        : await idsOfName(driver, target);
  const outcomes: CancelOutcome[] = [];
  for (let i = 0; i < ids.length; i += CHUNK) {
    const chunk = ids.slice(i, i + CHUNK);
    const { removed, requested } = await driver.cancel(chunk, reason);
    const byId = new Map(removed.map((job) => [job.id, job]));
    const asked = new Set(requested);
    for (const id of chunk) {
      const job = byId.get(id);
      if (job) outcomes.push({ id, outcome: 'cancelled', job });
      else if (asked.has(id)) outcomes.push({ id, outcome: 'cancel_requested' });
      else outcomes.push({ id, outcome: 'not_found' });
    }
  }
  return outcomes;
}

/**
 * The live jobs (waiting and running) of one name in one queue, read a page at a time before any
 * is cancelled (cancelling while paging would shift the pages). Jobs dispatched meanwhile are not
 * included.
 */
async function idsOfName(driver: QueueDriver, t: { queue: string; name: string }) {
  const ids: string[] = [];
  for (let offset = 0; ; offset += CHUNK) {
    const page = await driver.list(t.queue, undefined, offset, CHUNK);
    for (const row of page) if (row.name === t.name) ids.push(row.id);
    if (page.length < CHUNK) return ids;
  }
}

/** The live jobs carrying a tag, in one queue or in every queue, read before any is cancelled. */
async function idsOfTag(driver: QueueDriver, t: { tag: string; queue?: string }) {
  const ids: string[] = [];
  for (const queue of t.queue === undefined ? await driver.queues() : [t.queue]) {
    for (let offset = 0; ; offset += CHUNK) {
      const page = await driver.list(queue, undefined, offset, CHUNK, { tag: t.tag });
      for (const row of page) ids.push(row.id);
      if (page.length < CHUNK) break;
    }
  }
  return ids;
}

/**
 * The reason stored with a cancel, which a running job's JobCancelledError shows: who asked,
 * from where, and why when told.
 */
export function cancelReason(why?: string, from = 'run queue:cancel'): string {
  let user = 'unknown user';
  try {
    user = userInfo().username;
  } catch {
    // No user entry for this uid (a container): the host still says where it came from.
  }
  const who = `${from} by ${user}@${hostname()}`;
  return why ? `${who}: ${why}` : who;
}
