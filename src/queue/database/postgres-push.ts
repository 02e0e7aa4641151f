import type { Knex } from 'knex';
import type { NewJob, PushResult } from '../driver.js';
import { SQL } from './postgres-sql.js';
import { storedTags } from '../../jobs/tags.js';
import { storedHeaders } from '../headers.js';

/*
 * Pushes on PostgreSQL, a batch at a time: a few statements per batch whatever its size, the
 * rows travelling as arrays of columns (postgres-sql.ts pushMany), unique jobs included. One row
 * at a time, 100,000 jobs took 28.6 s.
 */

/** Jobs per statement. Ten thousand rows' arrays are a few megabytes of parameters at most. */
export const PUSH_BATCH = 5000;

type Runner = Knex | Knex.Transaction;

async function rows(
  on: Runner,
  sql: string,
  bindings: unknown[],
): Promise<Record<string, unknown>[]> {
  const result = await on.raw(sql, bindings as Knex.RawBinding[]);
  return (result as { rows: Record<string, unknown>[] }).rows;
}

/**
 * Stores one batch of jobs (already storable: src/queue/storable.ts) on `on`, a transaction when
 * the batch has unique jobs or is one of several. Results are in the jobs' order.
 *
 * Unique keys keep the per-job semantics: the first job of a key (in this batch, in the
 * transaction so far, or already stored and not expired) holds it; a later one is deduplicated
 * to the holder's id. Concurrent pushes of one key serialise on job_uniques' primary key.
 */
export async function pushBatch(on: Runner, jobs: NewJob[]): Promise<PushResult[]> {
  const won = await claimKeys(on, jobs);
  // The jobs to insert: plain ones, and the first job of each key this batch won.
  const inserted: NewJob[] = [];
  const firstOfKey = new Map<string, number>();
  const plan = jobs.map((job) => {
    const key = job.unique?.key;
    if (key === undefined) return inserted.push(job) - 1;
    if (!won.has(key) || firstOfKey.has(key)) return -1;
    firstOfKey.set(key, inserted.length);
    return inserted.push(job) - 1;
  });
  // Also records each won key's job (pushMany's `keyed`).
  const ids = inserted.length > 0 ? await insert(on, inserted) : [];
  const lost = [
    ...new Set(jobs.flatMap((j) => (j.unique && !won.has(j.unique.key) ? [j.unique.key] : []))),
  ];
  const holders = new Map<string, string>();
  if (lost.length > 0) {
    for (const r of await rows(on, SQL.findUniques, [lost])) {
      holders.set(String(r.key), String(r.job_id));
    }
  }
  return jobs.map((job, i) => {
    if (plan[i]! >= 0) return { id: ids[plan[i]!]!, deduplicated: false };
    const key = job.unique!.key;
    const id = won.has(key) ? ids[firstOfKey.get(key)!]! : (holders.get(key) ?? '');
    return { id, deduplicated: true };
  });
}

/** Claims the batch's keys that are free or expired, one statement; returns the keys won. */
async function claimKeys(on: Runner, jobs: NewJob[]): Promise<Set<string>> {
  const forMs = new Map<string, number>();
  for (const job of jobs) {
    if (job.unique && !forMs.has(job.unique.key)) forMs.set(job.unique.key, job.unique.forMs);
  }
  if (forMs.size === 0) return new Set();
  // In one order for every push: a claim locks the rows it meets (also a held key's), and two
  // pushes meeting the same keys in other orders could deadlock.
  const keys = [...forMs.keys()].sort();
  const claimed = await rows(on, SQL.claimUniques, [keys, keys.map((k) => forMs.get(k)!)]);
  return new Set(claimed.map((r) => String(r.key)));
}

/** One INSERT for every job (and the NOTIFY); their ids in order. */
async function insert(on: Runner, jobs: NewJob[]): Promise<string[]> {
  const queues = [...new Set(jobs.map((j) => j.queue))].join(',');
  const result = await rows(on, SQL.pushMany, [
    jobs.map((j) => j.queue),
    jobs.map((j) => j.name),
    jobs.map((j) => j.payload),
    jobs.map((j) => j.priority),
    jobs.map((j) => j.maxTries),
    jobs.map((j) => j.runAt ?? null),
    jobs.map((j) => j.delayMs),
    jobs.map((j) => j.unique?.key ?? null),
    jobs.map((j) => j.unique?.forMs ?? null),
    jobs.map((j) => storedTags(j.tags)),
    jobs.map((j) => storedHeaders(j.headers)),
    queues,
  ]);
  return result.map((r) => String(r.id));
}
