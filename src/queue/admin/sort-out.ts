import type { JobRow, QueueDriver } from '../driver.js';

/**
 * The ids an operation left alone (`done` are those it acted on), sorted out by why: jobs that
 * are live but were not in the state it needed, and ids that match no live job.
 */
export async function sortOut(
  driver: QueueDriver,
  ids: string[],
  done: string[],
): Promise<{ skipped: JobRow[]; missing: string[] }> {
  const acted = new Set(done);
  const skipped: JobRow[] = [];
  const missing: string[] = [];
  for (const id of ids) {
    if (acted.has(id)) continue;
    const row = await driver.find(id);
    if (row) skipped.push(row);
    else missing.push(id);
  }
  return { skipped, missing };
}
