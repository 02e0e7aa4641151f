#!/usr/bin/env node
// The storage side of the Telegram intake alone: the real Intake (as `run longpoll` wires it)
// over a scripted getUpdates that hands out batches of 100 at once, no HTTP, no fake server.
//
//   npm run build && node bench/telegram-intake-store.mjs [pgsql|sqlite] [batches, 100]
//     [--outbox] [--times]
//
// Prints updates/s stored and dispatched (rows `queued`), ms and SQL statements per batch (knex
// query events, BEGIN and COMMIT included), after 2 warm-up batches. --outbox forces the
// outbox path on PostgreSQL (store, then dispatch); --times adds each statement's mean time.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createPgDatabase, dropPgDatabase, jobsmith } from './lib.mjs';

const [backend = 'pgsql', batchesArg = '100'] = process.argv
  .slice(2)
  .filter((a) => !a.startsWith('--'));
const BATCHES = Number(batchesArg);
const OUTBOX = process.argv.includes('--outbox');
const TIMES = process.argv.includes('--times');

const dir = mkdtempSync(join(tmpdir(), 'jobsmith-bench-tgstore-'));
let vars = { DB_CONNECTION: 'sqlite', DB_DATABASE: join(dir, 'db.sqlite') };
let dbName;
if (backend === 'pgsql') {
  dbName = `jobsmith_bench_tgstore_${randomBytes(4).toString('hex')}`;
  vars = { DB_CONNECTION: 'pgsql', DATABASE_URL: await createPgDatabase(dbName) };
}
const { parseEnv } = await jobsmith('config/env.js');
const { openDatabase } = await jobsmith('db/connection.js');
const { migrateLatest } = await jobsmith('db/migrate.js');
const { QueueConnections } = await jobsmith('queue/connections.js');
const { JobRegistry } = await jobsmith('jobs/registry.js');
const { Dispatcher } = await jobsmith('queue/dispatcher.js');
const { telegramUpdateJob } = await jobsmith('telegram/update-job.js');
const { Intake } = await jobsmith('telegram/intake.js');

const env = parseEnv(vars);
const db = await openDatabase(env, dir);
await migrateLatest(db);
const job = telegramUpdateJob({
  db: async () => db,
  bots: () => [],
  apiRoot: '',
  telegram: { handler: {} },
});
const queues = new QueueConnections({
  env,
  cwd: dir,
  db: async () => db,
  registry: async () => new JobRegistry([job]),
  rateLimits: async () => new Map(),
});
const dispatcher = new Dispatcher((name) => queues.get(name));

let statements = 0;
const times = new Map();
const began = new Map();
db.knex.on('query', (q) => {
  statements++;
  began.set(q.__knexQueryUid, performance.now());
});
db.knex.on('query-response', (_r, q) => {
  const key = q.sql.replace(/\s+/g, ' ').trim().slice(0, 60);
  const t = times.get(key) ?? { ms: 0, n: 0 };
  t.ms += performance.now() - began.get(q.__knexQueryUid);
  t.n++;
  times.set(key, t);
});

const WARM = 2;
const updates = Array.from({ length: (BATCHES + WARM) * 100 }, (_, i) => ({
  update_id: 1000 + i,
  message: {
    message_id: i,
    date: 1_700_000_000,
    chat: { id: 42, type: 'private', first_name: 'A' },
    from: { id: 42, is_bot: false, first_name: 'A' },
    text: `update ${i}`,
  },
}));
const stop = new AbortController();
let t0;
const api = {
  async getUpdates({ offset = 0, limit }) {
    const from = offset - 1000;
    if (from === WARM * 100) {
      t0 = performance.now();
      statements = 0;
      times.clear();
    }
    const batch = updates.slice(Math.max(0, from), Math.max(0, from) + limit);
    if (batch.length === 0) stop.abort();
    return batch;
  },
};
const item = (row, as = job) => ({
  job: as,
  payload: { id: row.id, bot: '1', updateId: row.updateId },
});
const once = { ...job, unique: undefined }; // as commands/longpoll.ts does inside the transaction
const transactional = OUTBOX ? undefined : await dispatcher.transactional(job.connection);
const intake = new Intake(
  {
    bot: { id: '1', name: 'default', token: 'x', source: 'bench' },
    timeoutS: 0,
    limit: 100,
    dropWebhook: false,
    leaseMs: 15_000,
    owner: 'bench',
  },
  {
    db,
    api,
    dispatch: async (rows) =>
      (await dispatcher.dispatchMany(rows.map((r) => item(r)))).map((r) => r.id),
    transaction:
      transactional &&
      ((fn) =>
        transactional((trx, dispatchMany) =>
          fn(trx, async (rows) =>
            (await dispatchMany(rows.map((r) => item(r, once)))).map((r) => r.id),
          ),
        )),
  },
);
await intake.run(stop.signal);
const seconds = (performance.now() - t0) / 1000;
const queued = Number(
  (await db.knex('telegram_updates').where('status', 'queued').count({ n: '*' }))[0].n,
);
console.log(
  JSON.stringify({
    backend,
    path: transactional ? 'one transaction' : 'outbox',
    updatesPerSecond: Math.round((BATCHES * 100) / seconds),
    msPerBatch: +((seconds * 1000) / BATCHES).toFixed(2),
    statementsPerBatch: +(statements / BATCHES).toFixed(1),
    queued,
  }),
);
if (TIMES) {
  for (const [sql, t] of [...times].sort((a, b) => b[1].ms - a[1].ms).slice(0, 8))
    console.log(`${(t.ms / t.n).toFixed(2).padStart(7)} ms × ${t.n}  ${sql}`);
}
await queues.close();
await db.knex.destroy();
if (dbName) await dropPgDatabase(dbName);
rmSync(dir, { recursive: true, force: true });
