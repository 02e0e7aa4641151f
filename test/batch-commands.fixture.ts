/**
 * Batches for the batch command tests (test/batch-commands.specs.ts), stored as the engine
 * stores them (migrations/0024_job_batches.ts): rows written straight into job_batches, and
 * jobs pushed with the batch's header onto the app's own queue connection, so a worker records
 * their outcomes against the batch as it does for a batch() dispatch.
 */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { parseEnv } from '../src/config/env.js';
import { JobRegistry } from '../src/jobs/registry.js';
import { QueueConnections } from '../src/queue/connections.js';
import type { QueueApp } from './queue-commands.fixture.js';

/** The header that makes a job a batch's (src/workflows/batches). */
export const BATCH_HEADER = 'jobsmith-batch';

export interface SeedBatch {
  id?: string;
  name?: string | null;
  total?: number;
  pending?: number;
  failed?: number;
  failedJobIds?: string[];
  allowFailures?: boolean;
  /** The `then` callback: a job name and payload, on `queue` (null: the job's own). */
  then?: { name: string; payload: unknown; queue?: string } | null;
  /** Epoch ms; now by default. */
  createdAt?: number;
  cancelledAt?: number | null;
  finishedAt?: number | null;
  /** The ids of the callback jobs that ran, by kind. */
  ran?: Record<string, string>;
}

/** Writes a job_batches row; returns its id. */
export async function seedBatch(knex: Knex, b: SeedBatch = {}): Promise<string> {
  const id = b.id ?? randomUUID();
  const total = b.total ?? 3;
  const step = (s: SeedBatch['then']) =>
    s ? { name: s.name, queue: s.queue ?? null, payload: s.payload, options: {} } : null;
  await knex('job_batches').insert({
    id,
    name: b.name === undefined ? 'seeded' : b.name,
    total,
    pending: b.pending ?? total,
    failed: b.failed ?? 0,
    failed_job_ids: JSON.stringify(b.failedJobIds ?? []),
    options: JSON.stringify({
      allowFailures: b.allowFailures ?? false,
      queue: null,
      connection: null,
      then: step(b.then ?? null),
      catch: null,
      finally: null,
      ran: b.ran ?? {},
    }),
    cancelled_at: b.cancelledAt ?? null,
    created_at: b.createdAt ?? Date.now(),
    finished_at: b.finishedAt ?? null,
  });
  return id;
}

/**
 * Stores a batch of `jobs` on `queue` (name and n of each) with a `then` callback (`then`, if
 * given, on the same queue) and pushes them with the batch's header, as batch().dispatch() does: returns the
 * batch id and the job ids in order.
 */
export async function dispatchBatch(
  app: QueueApp,
  queue: string,
  jobs: Array<{ name: string; n: number }>,
  options: { then?: { name: string; payload: unknown }; allowFailures?: boolean } = {},
): Promise<{ id: string; jobIds: string[] }> {
  const { knex } = await app.db();
  const id = await seedBatch(knex, {
    name: `batch on ${queue}`,
    total: jobs.length,
    then: options.then ? { ...options.then, queue } : null,
    allowFailures: options.allowFailures,
  });
  await knex('job_batches')
    .where({ id })
    .update({
      options: knex.raw(
        app.backend === 'pgsql'
          ? `jsonb_set(options::jsonb, '{connection}', to_jsonb(?::text))::text`
          : `json_set(options, '$.connection', ?)`,
        [app.connection],
      ),
    });
  const connections = new QueueConnections({
    env: parseEnv(app.env),
    cwd: app.cwd,
    db: () => app.db(),
    registry: async () => new JobRegistry([]),
    rateLimits: async () => new Map(),
  });
  try {
    const driver = await connections.get();
    const pushed = await driver.push(
      jobs.map((j) => ({
        name: j.name,
        queue,
        payload: JSON.stringify({ n: j.n }),
        priority: 0,
        maxTries: 1,
        delayMs: 0,
        headers: { [BATCH_HEADER]: id },
      })),
    );
    return { id, jobIds: pushed.map((p) => p.id) };
  } finally {
    await connections.close();
  }
}
