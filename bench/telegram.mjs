#!/usr/bin/env node
// The `telegram` workload, against the fake Bot API (test/doubles/telegram, loaded with jiti) and
// the real CLI (`bin/run`), as an operator runs it:
//
//   npm run build && node bench/telegram.mjs [--intake sqlite,pgsql] [--updates 20000]
//     [--samples 100] [--sleep 1s] [--send sqlite,pgsql,redis] [--chats 30] [--messages 10]
//     [--senders 3] [--concurrency 10] [--per 1000ms] [--grammy 1,3] [--out DIR]
//
// - intake throughput (per --intake backend): one `run longpoll` (batches of 100) held on an
//   empty fake; --updates messages pushed at once; updates/s from the push to the moment every
//   row is stored and its telegram.update job dispatched (status `queued`). No worker runs.
// - latency (same backends): `run longpoll` and one `run queue:work --queue telegram-updates
//   --sleep <--sleep>` idle; one update pushed at a time (after a random 0-300 ms pause); from the
//   push to the start of the grammY handler (the handler stamps the time), --samples times.
// - sending (per --send backend): --chats private chats × --messages each, dispatched as
//   telegram.send jobs up front, then --senders `run queue:work --queue telegram --concurrency
//   <--concurrency>` processes (0: the queue's own concurrency).
// A part is skipped with an empty list (--send '' --grammy ''), --updates 0 or --samples 0.
//   The fake's default limits (30/s per bot, 1/s per private chat) make the allowed rate
//   min(30, chats)/s. Achieved rate: sends per whole second from the first accepted send, and
//   the median whole second (the rate while the senders are busy, start and tail aside); 429s
//   in all and after the first 2 s ("steady"). Next to grammY + @grammyjs/auto-retry sending the
//   same messages with no queue, at each --grammy concurrency (async loops over one list).
//   The first jobsmith row runs the default limits (Telegram's figures with windows 2% longer:
//   30 and 1 per 1020 ms); each --per adds a row whose config sets telegram.global to 30 and
//   telegram.chat to 1 per that long ('1000ms': exactly Telegram's figures; '' for none).
//
// Each part uses its own temp dir, PostgreSQL database or Redis prefix, removed at the end.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createJiti } from 'jiti';
import { autoRetry } from '@grammyjs/auto-retry';
import {
  BENCH_DIR,
  epoch,
  jobsmith,
  percentile,
  requireFromRoot,
  ROOT_DIR,
  sleep,
  benchStorage,
  median,
} from './lib.mjs';

const args = new Map(
  process.argv
    .slice(2)
    .flatMap((a, i, all) => (a.startsWith('--') ? [[a.slice(2), all[i + 1]]] : [])),
);
const list = (name, def) =>
  String(args.get(name) ?? def)
    .split(',')
    .filter(Boolean);
const INTAKE = list('intake', 'sqlite,pgsql');
const UPDATES = Number(args.get('updates') ?? 20_000);
const SAMPLES = Number(args.get('samples') ?? 100);
const SLEEP = String(args.get('sleep') ?? '1s');
const SEND = list('send', 'sqlite,pgsql,redis');
const CHATS = Number(args.get('chats') ?? 30);
const MESSAGES = Number(args.get('messages') ?? 10);
const SENDERS = Number(args.get('senders') ?? 3);
const CONCURRENCY = Number(args.get('concurrency') ?? 10);
const PER = list('per', '1000ms');
const GRAMMY = list('grammy', '1,3').map(Number);
const OUT = args.get('out') ?? join(BENCH_DIR, 'results');
const ALLOWED = Math.min(30, CHATS);

const jiti = createJiti(import.meta.url);
const { startFakeBotApi } = await jiti.import('../test/doubles/telegram/index.ts');

// The handler stamps each update's start (epoch ms, comparable across processes) in a file.
const CONFIG = `
import { appendFileSync } from 'node:fs';
import { Composer } from 'grammy';
import { defineConfig } from 'jobsmith';

const handler = new Composer();
handler.use((ctx) => {
  appendFileSync(process.env.BENCH_STARTS, \`\${ctx.update.update_id} \${performance.timeOrigin + performance.now()}\\n\`);
});
const per = process.env.BENCH_PER;
export default defineConfig({
  telegram: { handler },
  rateLimits: per
    ? { 'telegram.global': { limit: 30, per }, 'telegram.chat': { limit: 1, per } }
    : {},
});
`;

/** Waits until `check()` is truthy, polling every `everyMs`; throws after `timeoutMs`. */
async function until(what, check, { timeoutMs = 120_000, everyMs = 20 } = {}) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** A scratch app on `backend` talking to `api`: its dir, storage, CLI and SQL. */
async function makeApp(backend, api, extraEnv = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'jobsmith-bench-tg-'));
  writeFileSync(join(dir, 'jobsmith.config.ts'), CONFIG);
  const storage = await benchStorage(backend, dir, 'tg');
  const { vars } = storage;
  const startsFile = join(dir, 'starts.txt');
  const env = {
    ...process.env,
    NO_COLOR: '1',
    LOG_LEVEL: 'warn',
    ...vars,
    TELEGRAM_API_ROOT: api.apiRoot,
    TELEGRAM_BOT_TOKEN: api.token,
    BENCH_STARTS: startsFile,
    ...extraEnv,
  };
  const children = [];
  const run = (argv) => {
    const child = spawn(process.execPath, [join(ROOT_DIR, 'bin/run'), ...argv], {
      cwd: dir,
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr = (stderr + d).slice(-4000)));
    const exited = new Promise((r) => child.on('exit', (code) => r({ code, stderr })));
    children.push({ child, exited });
    return { child, exited };
  };
  const migrated = await run(['migrate']).exited;
  if (migrated.code !== 0) throw new Error(`run migrate failed: ${migrated.stderr}`);

  const { parseEnv } = await jobsmith('config/env.js');
  const { openDatabase } = await jobsmith('db/connection.js');
  const db = await openDatabase(parseEnv(vars), dir);
  return {
    run,
    db,
    vars,
    dir,
    /** Handler starts so far: Map update_id → epoch ms. */
    starts() {
      if (!existsSync(startsFile)) return new Map();
      const lines = readFileSync(startsFile, 'utf8').split('\n').filter(Boolean);
      return new Map(lines.map((l) => l.split(' ').map(Number)));
    },
    async stopAll() {
      for (const { child } of children) if (child.exitCode === null) child.kill('SIGTERM');
      const bounded = (p) => Promise.race([p, sleep(15_000).then(() => ({ code: 'hung' }))]);
      for (const c of children) {
        const r = await bounded(c.exited);
        if (r.code === 'hung') c.child.kill('SIGKILL');
      }
      children.length = 0;
    },
    async cleanup() {
      await this.stopAll();
      await db.knex.destroy();
      await storage.remove();
    },
  };
}

const countQueued = async (db) =>
  Number((await db.knex('telegram_updates').where('status', 'queued').count({ n: '*' }))[0].n);

// ---- intake --------------------------------------------------------------------------------

async function intake(backend) {
  const api = await startFakeBotApi({ chats: [42] });
  const app = await makeApp(backend, api);
  try {
    const poller = app.run(['longpoll', '--timeout', '30s', '--limit', '100']);
    await until('longpoll to hold a poll', () => api.holding() || poller.child.exitCode !== null);
    if (!api.holding()) throw new Error(`longpoll exited: ${(await poller.exited).stderr}`);
    // Warm-up: connections, statements, JIT.
    for (let i = 0; i < 200; i++) api.pushMessage(42, `warm ${i}`);
    await until('warm-up', async () => (await countQueued(app.db)) === 200);
    await until('the next held poll', () => api.holding());

    const t0 = epoch();
    for (let i = 0; i < UPDATES; i++) api.pushMessage(42, `update ${i}`);
    const pushMs = epoch() - t0;
    await until(
      'every update stored and dispatched',
      async () => (await countQueued(app.db)) === UPDATES + 200,
      {
        everyMs: 50,
        timeoutMs: 600_000,
      },
    );
    const seconds = (epoch() - t0) / 1000;
    const jobs = Number(
      (await app.db.knex('telegram_updates').whereNotNull('job_id').count({ n: '*' }))[0].n,
    );
    return { backend, updates: UPDATES, pushMs, seconds, perSecond: UPDATES / seconds, jobs };
  } finally {
    await app.cleanup();
    await api.close();
  }
}

/** An idle poller and an idle worker on fresh storage, one update at a time. */
async function latency(backend) {
  const api = await startFakeBotApi({ chats: [42] });
  const app = await makeApp(backend, api);
  try {
    const poller = app.run(['longpoll', '--timeout', '30s']);
    app.run(['queue:work', '--queue', 'telegram-updates', '--sleep', SLEEP]);
    await until('longpoll to hold a poll', () => api.holding() || poller.child.exitCode !== null);
    if (!api.holding()) throw new Error(`longpoll exited: ${(await poller.exited).stderr}`);
    const latencies = [];
    for (let i = 0; i < SAMPLES + 5; i++) {
      await sleep(Math.random() * 300);
      await until('a held poll', () => api.holding(), { everyMs: 2 });
      const pushed = epoch();
      const { update_id: id } = api.pushMessage(42, `ping ${i}`);
      await until(`the handler of update ${id}`, () => app.starts().has(id), {
        everyMs: 5,
        timeoutMs: 30_000,
      });
      if (i >= 5) latencies.push(app.starts().get(id) - pushed); // the first 5 warm up
    }
    return {
      samples: latencies.length,
      workerSleep: SLEEP,
      p50: percentile(latencies, 50),
      p90: percentile(latencies, 90),
      p99: percentile(latencies, 99),
      min: Math.min(...latencies),
      max: Math.max(...latencies),
    };
  } finally {
    await app.cleanup();
    await api.close();
  }
}

// ---- sending -------------------------------------------------------------------------------

const CHAT_IDS = Array.from({ length: CHATS }, (_, i) => 1000 + i);
/** Round robin over the chats: message m to every chat, then m + 1. */
const MESSAGES_LIST = Array.from({ length: CHATS * MESSAGES }, (_, i) => ({
  chatId: CHAT_IDS[i % CHATS],
  text: `message ${Math.floor(i / CHATS)}`,
}));

/** What the fake saw: achieved rate over whole seconds from the first accepted send; 429s. */
function measureSends(api) {
  const sends = api.sent.map((s) => s.at).sort((a, b) => a - b);
  const first = sends[0];
  const windows = Math.floor((sends.at(-1) - first) / 1000);
  const inWindows = sends.filter((t) => t < first + windows * 1000).length;
  const rate = windows > 0 ? inWindows / windows : NaN;
  const refused = api.calls.filter((c) => c.status === 429);
  return {
    sent: sends.length,
    seconds: (sends.at(-1) - first) / 1000,
    rate,
    share: rate / ALLOWED,
    tooManyRequests: refused.length,
    steady429: refused.filter((c) => c.at >= first + 2000).length,
    calls: api.calls.length,
    // Accepted sends in each whole second from the first, and the 429s' offsets (ms): where a
    // run loses its slots.
    perSecond: Array.from(
      { length: windows + 1 },
      (_, i) => sends.filter((t) => t >= first + i * 1000 && t < first + (i + 1) * 1000).length,
    ),
    refusedAt: refused.map((c) => c.at - first),
    // The median whole second: the rate while every sender is busy, which neither the start
    // (the first pass over fresh jobs) nor the tail (a job a 429 held back, the last partial
    // second) moves.
    steadyShare:
      median(
        Array.from(
          { length: windows },
          (_, i) => sends.filter((t) => t >= first + i * 1000 && t < first + (i + 1) * 1000).length,
        ),
      ) / ALLOWED,
  };
}

async function jobsmithSender(backend, per) {
  const api = await startFakeBotApi({ chats: CHAT_IDS });
  const app = await makeApp(backend, api, per ? { BENCH_PER: per } : {});
  const connections = [];
  try {
    const { parseEnv } = await jobsmith('config/env.js');
    const { QueueConnections } = await jobsmith('queue/connections.js');
    const { JobRegistry } = await jobsmith('jobs/registry.js');
    const { Dispatcher } = await jobsmith('queue/dispatcher.js');
    const { telegramSend } = await jobsmith('telegram/index.js');
    const qc = new QueueConnections({
      env: parseEnv(app.vars),
      cwd: app.dir,
      db: async () => app.db,
      registry: async () => new JobRegistry([telegramSend]),
    });
    connections.push(qc);
    const driver = await qc.get();
    await new Dispatcher(async () => driver).dispatchMany(
      MESSAGES_LIST.map((m) => ({
        job: telegramSend,
        payload: { params: { chat_id: m.chatId, text: m.text } },
      })),
    );
    const concurrency = CONCURRENCY ? ['--concurrency', String(CONCURRENCY)] : [];
    for (let i = 0; i < SENDERS; i++)
      app.run(['queue:work', '--queue', 'telegram', ...concurrency]);
    await until('every message sent', () => api.sent.length >= MESSAGES_LIST.length, {
      everyMs: 50,
      timeoutMs: 60_000 + MESSAGES * 5000,
    });
    const limit = per ? `, 30 and 1 per ${per}` : ', default limits';
    return { side: `jobsmith, ${SENDERS} × queue:work (${backend})${limit}`, ...measureSends(api) };
  } finally {
    for (const c of connections) await c.close();
    await app.cleanup();
    await api.close();
  }
}

async function grammySender(concurrency) {
  const api = await startFakeBotApi({ chats: CHAT_IDS });
  try {
    const { Bot } = requireFromRoot('grammy');
    const bot = new Bot(api.token, { client: { apiRoot: api.apiRoot } });
    bot.api.config.use(autoRetry());
    let next = 0;
    const loop = async () => {
      while (next < MESSAGES_LIST.length) {
        const m = MESSAGES_LIST[next++];
        await bot.api.sendMessage(m.chatId, m.text);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, loop));
    return { side: `grammY + auto-retry, concurrency ${concurrency}`, ...measureSends(api) };
  } finally {
    await api.close();
  }
}

// ---- main ----------------------------------------------------------------------------------

const results = { intake: [], sending: [] };
for (const backend of INTAKE) {
  const throughput = UPDATES > 0 ? await intake(backend) : { backend, perSecond: NaN };
  results.intake.push({ ...throughput, latency: SAMPLES > 0 ? await latency(backend) : undefined });
  process.stderr.write(`intake ${backend} done\n`);
}
for (const backend of SEND) {
  for (const per of [undefined, ...PER]) {
    results.sending.push(await jobsmithSender(backend, per));
  }
  process.stderr.write(`sending ${backend} done\n`);
}
for (const c of GRAMMY) results.sending.push(await grammySender(c));

const ms = (x) => (x === undefined ? '–' : `${x.toFixed(1)} ms`);
const table = [
  `Intake: ${UPDATES} updates pushed at once, one \`run longpoll\` (batches of 100); latency: ${SAMPLES} updates one at a time, idle longpoll + \`queue:work --sleep ${SLEEP}\`.`,
  '',
  '| backend | updates/s stored + dispatched | latency p50 | p90 | p99 | min | max |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...results.intake.map(
    (r) =>
      `| ${r.backend} | ${Number.isNaN(r.perSecond) ? '–' : Math.round(r.perSecond)} | ${ms(r.latency?.p50)} | ${ms(r.latency?.p90)} | ${ms(r.latency?.p99)} | ${ms(r.latency?.min)} | ${ms(r.latency?.max)} |`,
  ),
  '',
  `Sending: ${CHATS} private chats × ${MESSAGES} messages; fake limits 30/s per bot, 1/s per chat: allowed ${ALLOWED}/s; ${SENDERS} senders at concurrency ${CONCURRENCY || 'default'}.`,
  '',
  '| side | sent | seconds | achieved /s | share of allowed | median second, share | 429s | 429s after 2 s |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...results.sending.map(
    (r) =>
      `| ${r.side} | ${r.sent} | ${r.seconds.toFixed(1)} | ${r.rate.toFixed(1)} | ${r.share.toFixed(3)}× | ${r.steadyShare.toFixed(3)}× | ${r.tooManyRequests} | ${r.steady429} |`,
  ),
].join('\n');
console.log(table);
mkdirSync(OUT, { recursive: true });
const stamp = new Date().toISOString().slice(0, 10);
const params = {
  updates: UPDATES,
  samples: SAMPLES,
  sleep: SLEEP,
  chats: CHATS,
  messages: MESSAGES,
  senders: SENDERS,
  concurrency: CONCURRENCY,
  per: PER,
};
writeFileSync(join(OUT, `${stamp}-telegram.json`), JSON.stringify({ params, ...results }, null, 2));
writeFileSync(join(OUT, `${stamp}-telegram.md`), `${table}\n`);
