/**
 * The HistoryWriter off the hot path: it does not listen for successes when no job keeps them,
 * writes buffered rows in batches, and rides out a storage that refuses a write (reported, rows
 * kept for the next one). On a real SQLite file.
 */
import { EventEmitter } from 'node:events';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseEnv } from '../src/config/env.js';
import { openDatabase, type Database } from '../src/db/connection.js';
import { migrateLatest } from '../src/db/migrate.js';
import { retentionTable, startHistory } from '../src/history/attach.js';
import { recordCancelled } from '../src/history/record-cancelled.js';
import { RetentionTable } from '../src/history/retention.js';
import { HistoryWriter } from '../src/history/writer.js';
import { defineJob } from '../src/jobs/define.js';
import { JobRegistry } from '../src/jobs/registry.js';
import type { ClaimedJob } from '../src/queue/driver.js';
import type { WorkerEvents } from '../src/worker/events.js';
import { tempDir, type TempDir } from './helpers/services.js';
import { waitFor } from './helpers/wait.js';

function claimed(id: string, name = 'keep.job'): ClaimedJob {
  return {
    id,
    name,
    queue: 'default',
    payload: '{}',
    priority: 0,
    attempts: 1,
    maxTries: 3,
    token: 't',
    tags: ['post:1'],
    readyAt: 1_000,
  };
}

describe('the history writer', () => {
  let dir: TempDir;
  let db: Database;
  beforeEach(async () => {
    dir = tempDir('jobsmith-history-');
    const env = parseEnv({
      DB_CONNECTION: 'sqlite',
      DB_DATABASE: path.join(dir.path, 'database.sqlite'),
    });
    db = await openDatabase(env, dir.path);
  });
  afterEach(async () => {
    await db.knex.destroy();
    dir.cleanup();
  });

  it('does not listen for successes when no job or queue keeps them', async () => {
    await migrateLatest(db);
    const quiet = defineJob({ name: 'quiet.job', handle: () => {} });
    const keep = defineJob({ name: 'keep.job', retain: { succeeded: 60 }, handle: () => {} });
    const options = { knex: db.knex, connection: 'database', queues: ['default'], prune: false };
    const worker = new EventEmitter<WorkerEvents>();
    const off = startHistory(worker, { ...options, registry: new JobRegistry([quiet]) });
    expect(worker.listenerCount('job:processed')).toBe(0);
    expect(worker.listenerCount('job:failed')).toBe(1);
    await off.close();
    expect(worker.listenerCount('job:failed')).toBe(0);
    const on = startHistory(worker, { ...options, registry: new JobRegistry([quiet, keep]) });
    expect(worker.listenerCount('job:processed')).toBe(1);
    const byQueue = startHistory(worker, {
      ...options,
      registry: new JobRegistry([quiet]),
      queueSettings: { default: { retain: { succeeded: '1h' } } },
    });
    expect(worker.listenerCount('job:processed')).toBe(2);
    await on.close();
    await byQueue.close();
  });

  it('writes a batch once maxRows are buffered, the rest on close, with tags and timing', async () => {
    await migrateLatest(db);
    const retention = new RetentionTable(
      () => ({ succeeded: '1h' }),
      () => undefined,
    );
    const errors: string[] = [];
    const writer = new HistoryWriter({
      knex: db.knex,
      connection: 'database',
      retention,
      flushMs: 60_000,
      maxRows: 3,
      onError: (e) => errors.push(e.message),
      now: () => 50_000,
    });
    const worker = new EventEmitter<WorkerEvents>();
    writer.attach(worker, true);
    for (const id of ['1', '2', '3', '4'])
      worker.emit('job:processed', { job: claimed(id), durationMs: 20, result: { id } });
    // Three went in one write at once; the fourth waits for the timer, or close().
    expect(writer.pending).toBe(1);
    await waitFor(async () => Number((await db.knex('job_history').count({ n: '*' }))[0]!.n) === 3);
    await writer.close();
    const rows = await db.knex('job_history').orderBy('id');
    expect(rows.map((r: Record<string, unknown>) => r.id)).toEqual(['1', '2', '3', '4']);
    expect(rows[0]).toMatchObject({
      status: 'succeeded',
      result: '{"id":"1"}',
      tags: '["post:1"]',
      dispatched_at: 1_000,
      started_at: 49_980,
      finished_at: 50_000,
      runtime_ms: 20,
      expires_at: 50_000 + 3_600_000,
    });
    expect(errors).toEqual([]);
  });

  it('reports a write the storage refuses and writes the same rows with the next one', async () => {
    const retention = new RetentionTable(
      () => undefined,
      () => undefined,
    );
    const errors: Array<{ message: string; during: string }> = [];
    const writer = new HistoryWriter({
      knex: db.knex,
      connection: 'database',
      retention,
      flushMs: 60_000,
      onError: (e, during) => errors.push({ message: e.message, during }),
    });
    const worker = new EventEmitter<WorkerEvents>();
    writer.attach(worker, false);
    // No schema yet: the write fails.
    worker.emit('job:failed', {
      job: claimed('9'),
      durationMs: 5,
      reason: 'error',
      error: new Error('boom'),
    });
    worker.emit('job:released', {
      job: claimed('8'),
      durationMs: 5,
      delayMs: 0,
      error: new Error('try again'),
      refunded: true,
    });
    await writer.flush();
    expect(errors).toHaveLength(1);
    expect(errors[0]!.during).toBe('writing 2 job history rows (kept for the next write)');
    expect(errors[0]!.message).toMatch(/job_attempts/);
    expect(writer.pending).toBe(2);
    await migrateLatest(db);
    await writer.close();
    expect(writer.pending).toBe(0);
    const [failed] = await db.knex('job_history');
    expect(failed).toMatchObject({ id: '9', status: 'failed' });
    expect(String(failed.error)).toMatch(/^Error: boom\n/);
    const [attempt] = await db.knex('job_attempts');
    expect(attempt).toMatchObject({ job_id: '8', outcome: 'put_back', error: 'try again' });
  });

  it('drops only a row the storage refuses, names its job, and writes the others', async () => {
    await migrateLatest(db);
    const retention = new RetentionTable(
      () => undefined,
      () => undefined,
    );
    const errors: Array<{ message: string; during: string }> = [];
    const writer = new HistoryWriter({
      knex: db.knex,
      connection: 'database',
      retention,
      flushMs: 60_000,
      onError: (e, during) => errors.push({ message: e.message, during }),
    });
    const worker = new EventEmitter<WorkerEvents>();
    writer.attach(worker, false);
    // A row with no name: NOT NULL refuses it, as PostgreSQL refuses text it cannot hold.
    const nameless = { ...claimed('6'), name: null as unknown as string };
    for (const job of [claimed('5'), nameless, claimed('7')])
      worker.emit('job:failed', { job, durationMs: 5, reason: 'error', error: new Error('x') });
    await writer.close();
    expect(writer.pending).toBe(0);
    const ids = (await db.knex('job_history').orderBy('id')).map((r: { id: string }) => r.id);
    expect(ids).toEqual(['5', '7']);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.message).toMatch(/^The storage refused the history of job\(s\) 6: /);
    expect(errors[0]!.during).toMatch(/those rows were dropped/);
  });

  it('records waiting jobs cancelled by a command, as their retention says, with their progress', async () => {
    await migrateLatest(db);
    const registry = new JobRegistry([
      defineJob({ name: 'gone.job', retain: { cancelled: false }, handle: () => {} }),
      defineJob({ name: 'kept.job', handle: () => {} }),
    ]);
    const job = { queue: 'default', attempts: 0, payload: '{}', createdAt: 1_000 };
    const written = await recordCancelled(
      db.knex,
      'database',
      [
        { ...job, id: '1', name: 'gone.job' },
        { ...job, id: '2', name: 'kept.job', tags: ['post:2'], progress: { done: 1, of: 3 } },
        { ...job, id: '3', name: 'kept.job', progress: null },
      ],
      'Cancelled by ops',
      retentionTable(registry, { default: { retain: { cancelled: '1d' } } }),
      5_000,
    );
    expect(written).toBe(2);
    expect(await db.knex('job_history').orderBy('id')).toEqual([
      expect.objectContaining({
        id: '2',
        status: 'cancelled',
        error: 'Cancelled by ops',
        tags: '["post:2"]',
        progress: '{"done":1,"of":3}',
        dispatched_at: 1_000,
        finished_at: 5_000,
        expires_at: 5_000 + 86_400_000,
      }),
      expect.objectContaining({ id: '3', status: 'cancelled', tags: null, progress: null }),
    ]);
  });
});
