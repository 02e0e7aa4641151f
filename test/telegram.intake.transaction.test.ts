/**
 * The intake's one-transaction path on PostgreSQL's database queue: the Intake, in process, with
 * Dispatcher.transactional as `run longpoll` wires it, against a scripted getUpdates. A batch's
 * rows, offset and jobs are stored together; a failure anywhere in the batch stores none of them.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import type { Api } from 'grammy';
import { parseEnv } from '../src/config/env.js';
import { openDatabase, type Database } from '../src/db/connection.js';
import { migrateLatest } from '../src/db/migrate.js';
import { JobRegistry } from '../src/jobs/registry.js';
import { QueueConnections } from '../src/queue/connections.js';
import { Dispatcher } from '../src/queue/dispatcher.js';
import { Intake, type IntakeDeps, type UpdateRef } from '../src/telegram/intake.js';
import { telegramUpdateJob } from '../src/telegram/update-job.js';
import type { RawUpdate } from '../src/telegram/updates-store.js';
import { createTestDatabase, describePg, type TestDatabase } from './helpers/services.js';

const BOT = { id: '7', name: 'default', token: '7:x', source: 'TELEGRAM_BOT_TOKEN' };

describePg('telegram intake on PostgreSQL: one transaction per batch', () => {
  let database: TestDatabase;
  let db: Database;
  let queues: QueueConnections;
  let dispatcher: Dispatcher;
  const job = telegramUpdateJob({
    db: async () => db,
    bots: () => [],
    apiRoot: '',
    telegram: { handler: {} as never },
  });

  beforeEach(async () => {
    database = await createTestDatabase();
    const env = parseEnv({ DB_CONNECTION: 'pgsql', DATABASE_URL: database.url });
    db = await openDatabase(env, process.cwd());
    await migrateLatest(db);
    queues = new QueueConnections({
      env,
      cwd: process.cwd(),
      db: async () => db,
      registry: async () => new JobRegistry([job]),
      rateLimits: async () => new Map(),
    });
    dispatcher = new Dispatcher((name) => queues.get(name));
  });
  afterEach(async () => {
    await queues.close();
    await db.knex.destroy();
    await database.drop();
  });

  const msg = (id: number): RawUpdate => ({
    update_id: id,
    message: { message_id: id, date: 1, chat: { id: 5, type: 'private' }, text: `m${id}` },
  });

  /** Runs an Intake over `batches` (one getUpdates each) until they are used up. */
  async function runIntake(batches: RawUpdate[][], failDispatch = false): Promise<unknown> {
    const stop = new AbortController();
    const api = {
      getUpdates: async () => {
        const batch = batches.shift();
        if (!batch) stop.abort();
        return batch ?? [];
      },
    } as unknown as Api;
    const transactional = await dispatcher.transactional(job.connection);
    expect(transactional).toBeDefined();
    const item = (row: UpdateRef) => ({
      job,
      payload: { id: row.id, bot: BOT.id, updateId: row.updateId },
    });
    const deps: IntakeDeps = {
      db,
      api,
      dispatch: async (rows) => (await dispatcher.dispatchMany(rows.map(item))).map((r) => r.id),
      transaction: (fn) =>
        transactional!((trx, dispatchMany) =>
          fn(trx, async (rows) => {
            const ids = (await dispatchMany(rows.map(item))).map((r) => r.id);
            if (failDispatch) throw new Error('storage gone mid-batch');
            return ids;
          }),
        ),
    };
    const intake = new Intake(
      { bot: BOT, timeoutS: 0, limit: 100, dropWebhook: false, leaseMs: 60_000, owner: 'test' },
      deps,
    );
    return intake.run(stop.signal).catch((error: Error) => error);
  }

  it('stores each new update queued with its job, dispatched once, and advances the offset', async () => {
    expect(
      await runIntake([
        [msg(1), msg(2)],
        [msg(2), msg(3)],
      ]),
    ).toBeUndefined();
    const rows = await db.knex('telegram_updates').orderBy('update_id').select();
    expect(rows.map((r) => [Number(r.update_id), r.status])).toEqual([
      [1, 'queued'],
      [2, 'queued'],
      [3, 'queued'],
    ]);
    const jobs = await db.knex('jobs').orderBy('id').select('id', 'name', 'payload');
    expect(jobs.map((j) => JSON.parse(j.payload).updateId)).toEqual([1, 2, 3]);
    expect(rows.map((r) => r.job_id)).toEqual(jobs.map((j) => String(j.id)));
    const state = await db.knex('telegram_state').where({ bot: BOT.id }).first();
    expect(Number(state.next_offset)).toBe(4);
  });

  it('stores nothing of a batch whose dispatch fails: no row, no job, the offset unmoved', async () => {
    const error = await runIntake([[msg(1), msg(2)]], true);
    expect(error).toMatchObject({ message: 'storage gone mid-batch' });
    expect(await db.knex('telegram_updates').select()).toEqual([]);
    expect(await db.knex('jobs').select()).toEqual([]);
    expect(await db.knex('job_uniques').select()).toEqual([]);
    const state = await db.knex('telegram_state').where({ bot: BOT.id }).first();
    expect(state.next_offset).toBeNull();
  });
});
