/**
 * A worker's registry row, kept from its events (src/workers/registration.ts), in process on
 * SQLite: what counts as processed and failed, which jobs are current, a refusing storage
 * reported once. test/workers.registry.test.ts runs real workers on every backend.
 */
import { EventEmitter } from 'node:events';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseEnv } from '../src/config/env.js';
import { openDatabase, type Database } from '../src/db/connection.js';
import { migrateLatest } from '../src/db/migrate.js';
import type { ClaimedJob } from '../src/queue/driver.js';
import type { WorkerEvents } from '../src/worker/events.js';
import { WorkerRegistration } from '../src/workers/registration.js';
import { workersReport, type WorkerReport } from '../src/workers/report.js';
import { tempDir, type TempDir } from './helpers/services.js';
import { waitFor } from './helpers/wait.js';

const job = (id: string, name = 'unit.job'): ClaimedJob => ({
  id,
  name,
  queue: 'a',
  payload: '{}',
  priority: 0,
  attempts: 1,
  maxTries: 3,
  token: `t-${id}`,
});

describe('worker registration', () => {
  let dir: TempDir;
  let db: Database;
  let events: EventEmitter<WorkerEvents>;
  let errors: Error[];
  let registration: WorkerRegistration;

  beforeEach(async () => {
    dir = tempDir('jobsmith-workers-');
    db = await openDatabase(
      parseEnv({ DB_CONNECTION: 'sqlite', DB_DATABASE: 'workers.sqlite' }),
      dir.path,
    );
    await migrateLatest(db);
    events = new EventEmitter<WorkerEvents>();
    errors = [];
    // A lease of 750ms: the row is rewritten every 250ms.
    registration = new WorkerRegistration(
      db.knex,
      {
        events,
        name: 'unit',
        connection: 'database',
        queues: ['a', 'b'],
        concurrency: 3,
        leaseMs: 750,
      },
      (error) => errors.push(error),
    );
  });
  afterEach(async () => {
    await registration.stop();
    await db.knex.destroy();
    dir.cleanup();
  });

  it('counts jobs that ended an attempt, failed ones apart, and lists those still running', async () => {
    expect(registration.intervalMs).toBe(250);
    await registration.start();
    const [fresh] = await workersReport(db.knex);
    expect(fresh).toMatchObject({
      name: 'unit',
      queues: ['a', 'b'],
      concurrency: 3,
      processed: 0,
      failed: 0,
      running: 0,
      currentJobs: [],
      stale: false,
    });

    const error = new Error('x');
    for (const id of ['1', '2', '3', '4', '5', '6', '7'])
      events.emit('job:processing', { job: job(id) });
    events.emit('job:processed', { job: job('1'), durationMs: 1 });
    events.emit('job:failed', { job: job('2'), durationMs: 1, reason: 'error', error });
    events.emit('job:released', {
      job: job('3'),
      durationMs: 1,
      delayMs: 10,
      error,
      refunded: false,
    });
    // Put back without spending an attempt (a rate limit): not a job done.
    events.emit('job:released', {
      job: job('4'),
      durationMs: 1,
      delayMs: 10,
      error,
      refunded: true,
    });
    events.emit('job:cancelled', { job: job('5'), durationMs: 1, reason: 'stop' });
    events.emit('job:lost', { job: job('6') });
    const started = Date.now();

    const [row] = (await waitFor<WorkerReport[] | false>(async () => {
      const report = await workersReport(db.knex);
      return report[0]?.processed === 4 ? report : false;
    })) as WorkerReport[];
    expect(row).toMatchObject({ processed: 4, failed: 1, running: 1 });
    expect(row!.currentJobs).toEqual([
      { id: '7', name: 'unit.job', queue: 'a', startedAt: expect.any(Number) },
    ]);
    expect(row!.currentJobs[0]!.startedAt).toBeLessThanOrEqual(started);
    expect(row!.heartbeatAt).toBeGreaterThan(fresh!.heartbeatAt);

    await registration.stop();
    expect(await workersReport(db.knex)).toEqual([]);
    expect(errors).toEqual([]);
  });

  it('reports a storage that refuses the row once, not on every beat', async () => {
    await registration.start();
    await db.knex.schema.renameTable('workers', 'workers_away');
    await waitFor(() => errors.length > 0);
    // Four more beats (every 250ms) fail meanwhile: none is reported again.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(errors.map((e) => e.message)).toEqual([expect.stringMatching(/no such table: workers/)]);
    await db.knex.schema.renameTable('workers_away', 'workers');
  });
});
