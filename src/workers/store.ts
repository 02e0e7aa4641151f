import type { Knex } from 'knex';

/*
 * SQL of the workers registry (migration 0017): one function per statement. Every time is epoch
 * ms from the database clock, so workers on hosts whose clocks differ are judged alike.
 */

/** A job a worker runs now, as its registry row lists it. */
export interface CurrentJob {
  id: string;
  name: string;
  queue: string;
  /** Epoch ms (the worker's clock) when the job started. */
  startedAt: number;
}

/** What a worker writes about itself. */
export interface WorkerEntry {
  id: string;
  name: string;
  host: string;
  pid: number;
  connection: string;
  queues: string[];
  concurrency: number;
  processed: number;
  failed: number;
  running: number;
  currentJobs: CurrentJob[];
}

/** A registry row as read back, with the times the database gave it. */
export interface WorkerRow extends WorkerEntry {
  startedAt: number;
  heartbeatAt: number;
}

/** Epoch ms from the database clock, as an SQL expression. */
function nowSql(knex: Knex): Knex.Raw {
  return knex.raw(
    isPostgres(knex)
      ? '(extract(epoch from clock_timestamp()) * 1000)::bigint'
      : "cast(unixepoch('subsec') * 1000 as integer)",
  );
}

function isPostgres(knex: Knex): boolean {
  const client = knex.client.config.client as unknown;
  return client === 'pg' || client === 'postgres' || client === 'postgresql';
}

/** The database clock, epoch ms. */
export async function databaseNow(knex: Knex): Promise<number> {
  const result = await knex.raw(`select ${nowSql(knex).toQuery()} as now`);
  const rows = isPostgres(knex) ? result.rows : result;
  return Number(rows[0].now);
}

function columns(entry: WorkerEntry) {
  return {
    name: entry.name,
    host: entry.host,
    pid: entry.pid,
    connection: entry.connection,
    queues: JSON.stringify(entry.queues),
    concurrency: entry.concurrency,
    processed: entry.processed,
    failed: entry.failed,
    running: entry.running,
    current_jobs: JSON.stringify(
      entry.currentJobs.map((j) => ({
        id: j.id,
        name: j.name,
        queue: j.queue,
        started_at: j.startedAt,
      })),
    ),
  };
}

/** Adds the worker's row, started and beating now. */
export async function insertWorker(knex: Knex, entry: WorkerEntry): Promise<void> {
  const now = nowSql(knex);
  await knex('workers').insert({
    id: entry.id,
    ...columns(entry),
    started_at: now,
    heartbeat_at: now,
  });
}

/**
 * Rewrites the worker's counts and current jobs and moves its heartbeat to now: one statement.
 * A row another worker pruned (this one was cut off from the storage for an hour) is added back.
 */
export async function beatWorker(knex: Knex, entry: WorkerEntry): Promise<void> {
  const now = nowSql(knex);
  const row = columns(entry);
  await knex('workers')
    .insert({ id: entry.id, ...row, started_at: now, heartbeat_at: now })
    .onConflict('id')
    .merge({ ...row, heartbeat_at: now });
}

export async function deleteWorker(knex: Knex, id: string): Promise<void> {
  await knex('workers').where({ id }).delete();
}

/**
 * Deletes at most `limit` rows whose heartbeat is older than `olderThanMs`: bounded work, so a
 * worker that prunes never holds the table long. Returns how many it deleted.
 */
export async function pruneWorkers(
  knex: Knex,
  olderThanMs: number,
  limit: number,
): Promise<number> {
  const cutoff = (await databaseNow(knex)) - olderThanMs;
  const ids = (await knex('workers')
    .where('heartbeat_at', '<', cutoff)
    .orderBy('heartbeat_at')
    .limit(limit)
    .pluck('id')) as string[];
  if (ids.length === 0) return 0;
  return knex('workers').whereIn('id', ids).andWhere('heartbeat_at', '<', cutoff).delete();
}

/** Every registry row, by name then start. */
export async function listWorkerRows(knex: Knex): Promise<WorkerRow[]> {
  const rows = (await knex('workers').orderBy(['name', 'started_at', 'id'])) as Array<
    Record<string, unknown>
  >;
  return rows.map(fromRow);
}

function fromRow(r: Record<string, unknown>): WorkerRow {
  const jobs = parseJson(r.current_jobs) as Array<Record<string, unknown>>;
  return {
    id: String(r.id),
    name: String(r.name),
    host: String(r.host),
    pid: Number(r.pid),
    connection: String(r.connection),
    queues: (parseJson(r.queues) as unknown[]).map(String),
    concurrency: Number(r.concurrency),
    startedAt: Number(r.started_at),
    heartbeatAt: Number(r.heartbeat_at),
    processed: Number(r.processed),
    failed: Number(r.failed),
    running: Number(r.running),
    currentJobs: jobs.map((j) => ({
      id: String(j.id),
      name: String(j.name),
      queue: String(j.queue),
      startedAt: Number(j.started_at),
    })),
  };
}

/** A JSON column; a row written by hand with something else in it reads as empty. */
function parseJson(value: unknown): unknown[] {
  try {
    const parsed: unknown = JSON.parse(String(value));
    return Array.isArray(parsed) ? parsed : [];
  } catch {
    return [];
  }
}
