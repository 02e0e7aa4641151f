/**
 * The workers registry (`run workers:list`), paused queues (`run queue:paused`) and the paused
 * flag of `queue:size`, on SQLite, PostgreSQL and Redis (whose registry lives in SQL storage,
 * SQLite here). Workers are started the way an operator does, with `queue:work`.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createQueueApp,
  tableRows,
  type Backend,
  type QueueApp,
} from './queue-commands.fixture.js';
import {
  deleteRedisKeys,
  pgAvailable,
  redisAvailable,
  redisPrefix,
  redisUrl,
} from './helpers/services.js';
import { waitFor } from './helpers/wait.js';

/** A row of `workers:list --json`. */
interface WorkerJson {
  id: string;
  name: string;
  host: string;
  pid: number;
  connection: string;
  queues: string[];
  concurrency: number;
  started_at: string;
  uptime_ms: number;
  heartbeat_at: string;
  heartbeat_age_ms: number;
  stale: boolean;
  processed: number;
  failed: number;
  running: number;
  current_jobs: Array<{ id: string; name: string; queue: string; started_at: string }>;
}

type Kind = Backend | 'redis';

/** Each test runs a dozen CLI commands; on a loaded machine one can take seconds. */
const SLOW = 120_000;

/** A job that runs until a file named "release" appears in the working directory. */
const HOLD_JOB = `
export const hold = defineJob({
  name: 'hold.job',
  schema: payload,
  async handle(p: P, ctx) {
    while (!existsSync('release') && !ctx.signal.aborted) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    record('hold.job', p.n);
  },
});
`;

/** Adds hold.job to the fixture's config. */
function addHoldJob(cwd: string): void {
  const file = path.join(cwd, 'jobsmith.config.ts');
  const config = readFileSync(file, 'utf8').replace(
    'const jobs = [',
    `${HOLD_JOB}\nconst jobs = [hold, `,
  );
  expect(config).toContain('const jobs = [hold, ');
  writeFileSync(file, config);
}

const KINDS: Array<{ kind: Kind; enabled: boolean }> = [
  { kind: 'sqlite', enabled: true },
  { kind: 'pgsql', enabled: pgAvailable() },
  { kind: 'redis', enabled: redisAvailable() },
];

/** Registry rows read straight from SQL storage (faster than a CLI run per poll). */
async function rows(app: QueueApp): Promise<Array<Record<string, unknown>>> {
  return (await app.db()).knex('workers').orderBy('name');
}

/** Inserts a registry row as a worker that stopped beating `agoMs` ago would have left it. */
async function insertSilentWorker(app: QueueApp, name: string, agoMs: number): Promise<string> {
  const id = randomUUID();
  const at = Date.now() - agoMs;
  await (await app.db()).knex('workers').insert({
    id,
    name,
    host: 'gone-host',
    pid: 4242,
    connection: 'database',
    queues: JSON.stringify(['old']),
    concurrency: 2,
    started_at: at - 60_000,
    heartbeat_at: at,
    processed: 7,
    failed: 1,
    running: 0,
    current_jobs: '[]',
  });
  return id;
}

for (const { kind, enabled } of KINDS) {
  describe.skipIf(!enabled)(`workers registry (${kind})`, () => {
    let app: QueueApp;
    let prefix: string | undefined;
    beforeAll(async () => {
      app = await createQueueApp(kind === 'pgsql' ? 'pgsql' : 'sqlite');
      addHoldJob(app.cwd);
      if (kind === 'redis') {
        // Jobs in Redis under a prefix of this test's own; the registry stays in SQLite.
        prefix = redisPrefix('jobsmith-workers').replace(/:$/, '');
        writeFileSync(
          path.join(app.cwd, '.env'),
          `QUEUE_CONNECTION=redis\nREDIS_URL=${redisUrl()}\nREDIS_PREFIX=${prefix}\n`,
        );
      }
    });
    afterAll(async () => {
      if (prefix) await deleteRedisKeys(redisUrl(), `${prefix}:`);
      await app?.cleanup();
    });
    const connection = kind === 'redis' ? 'redis' : 'database';

    it(
      'queue:paused lists paused queues with when and by whom; queue:size flags them',
      async () => {
        await app.dispatch('ok.job', [1], ['--queue', 'pq-jobs']);
        expect(await app.json(['queue:paused'])).toEqual([]);
        expect(await app.ok(['queue:paused'])).toBe('No queue is paused.\n');
        const before = Date.now();
        await app.ok(['queue:pause', 'pq-jobs', 'pq-empty']);

        const paused = await app.json<
          Array<{ queue: string; paused_at: string; paused_by: string }>
        >(['queue:paused']);
        expect(paused.map((p) => p.queue)).toEqual(['pq-empty', 'pq-jobs']);
        for (const p of paused) {
          expect(Date.parse(p.paused_at)).toBeGreaterThanOrEqual(before - 1000);
          expect(p.paused_by).toMatch(new RegExp(`^.+@${hostname().replace(/\./g, '\\.')}$`));
        }
        const table = tableRows(await app.ok(['queue:paused']));
        expect(table[0]).toEqual(['Queue', 'Paused at', 'For', 'By']);
        expect(table[1]).toEqual([
          'pq-empty',
          paused[0]!.paused_at,
          expect.any(String),
          paused[0]!.paused_by,
        ]);

        // Without arguments, a paused queue is listed even when it holds nothing.
        expect(await app.json(['queue:size'])).toEqual([
          { queue: 'pq-empty', pending: 0, delayed: 0, reserved: 0, failed: 0, paused: true },
          { queue: 'pq-jobs', pending: 1, delayed: 0, reserved: 0, failed: 0, paused: true },
        ]);
        expect(tableRows(await app.ok(['queue:size', 'pq-jobs', 'other']))).toEqual([
          ['Queue', 'Pending', 'Delayed', 'Reserved', 'Failed', 'Paused'],
          ['pq-jobs', '1', '0', '0', '0', 'yes'],
          ['other', '0', '0', '0', '0', 'no'],
        ]);

        await app.ok(['queue:resume', 'pq-jobs', 'pq-empty']);
        expect(await app.json(['queue:paused'])).toEqual([]);
        expect(await app.json(['queue:size', 'pq-jobs'])).toEqual([
          { queue: 'pq-jobs', pending: 1, delayed: 0, reserved: 0, failed: 0, paused: false },
        ]);
      },
      SLOW,
    );

    it(
      'lists a running worker with its queues, counts and current job, and drops it on a clean stop',
      async () => {
        await app.dispatch('ok.job', [1, 2, 3], ['--queue', 'wk']);
        await app.dispatch('boom.job', [4], ['--queue', 'wk']);
        // A lease of 1s: the worker rewrites its entry every third of it.
        const worker = app.spawn([
          'queue:work',
          '--queue',
          'wk,wk2',
          '--concurrency',
          '2',
          '--lease',
          '1s',
          '--name',
          'reg-worker',
        ]);
        try {
          await waitFor(async () => (await rows(app)).some((r) => Number(r.processed) === 4), {
            message: 'the worker entry never counted 4 jobs',
          });
          await app.dispatch('hold.job', [5], ['--queue', 'wk2']);
          await waitFor(async () => (await rows(app)).some((r) => Number(r.running) === 1), {
            message: 'the worker entry never listed hold.job',
          });

          const [listed, ...others] = await app.json<WorkerJson[]>(['workers:list']);
          expect(others).toEqual([]);
          expect(listed).toMatchObject({
            name: 'reg-worker',
            host: hostname(),
            pid: worker.child.pid,
            connection,
            queues: ['wk', 'wk2'],
            concurrency: 2,
            stale: false,
            processed: 4,
            failed: 1,
            running: 1,
            current_jobs: [{ name: 'hold.job', queue: 'wk2' }],
          });
          expect(listed!.heartbeat_age_ms).toBeLessThan(5_000);
          expect(Date.parse(listed!.started_at)).toBeLessThanOrEqual(
            Date.parse(listed!.heartbeat_at),
          );
          expect(Date.parse(listed!.current_jobs[0]!.started_at)).toBeGreaterThan(
            Date.now() - 60_000,
          );

          const table = tableRows(await app.ok(['workers:list']));
          expect(table[0]).toEqual([
            'Name',
            'Host',
            'PID',
            'Queues',
            'Concurrency',
            'Uptime',
            'Heartbeat',
            'Processed',
            'Failed',
            'Current jobs',
          ]);
          expect(table[1]).toEqual([
            'reg-worker',
            hostname(),
            String(worker.child.pid),
            'wk,wk2',
            '2',
            expect.stringMatching(/^\d/),
            expect.stringMatching(/^\d+ms ago$|^[\d.]+s ago$/),
            '4',
            '1',
            '1: hold.job',
          ]);
          expect(table).toHaveLength(2);

          writeFileSync(path.join(app.cwd, 'release'), '');
          await waitFor(
            async () =>
              (await rows(app)).some((r) => Number(r.processed) === 5 && Number(r.running) === 0),
            { message: 'the worker entry never counted hold.job done' },
          );
        } finally {
          const stopped = await worker.stop('SIGTERM', 10_000);
          expect(stopped.code, stopped.stderr).toBe(0);
        }
        expect(await rows(app)).toEqual([]);
        expect(await app.json(['workers:list'])).toEqual([]);
        expect(await app.ok(['workers:list'])).toBe('No worker is registered.\n');
      },
      SLOW,
    );

    it(
      'marks an entry without a heartbeat as stale, and a starting worker prunes those an hour old',
      async () => {
        const stale = await insertSilentWorker(app, 'silent', 120_000);
        const old = await insertSilentWorker(app, 'long-gone', 2 * 3_600_000);

        const listed = await app.json<WorkerJson[]>(['workers:list']);
        expect(listed.map((w) => [w.name, w.stale, w.processed])).toEqual([
          ['long-gone', true, 7],
          ['silent', true, 7],
        ]);
        expect(listed[1]!.heartbeat_age_ms).toBeGreaterThanOrEqual(120_000);
        const text = await app.ok(['workers:list']);
        expect(tableRows(text)[2]![6]).toMatch(/^2m \d\ds ago \(stale\)$/);
        expect(
          text.endsWith(
            '2 stale: no heartbeat for over 30s (the worker died or cannot reach the storage).\n',
          ),
        ).toBe(true);

        const worker = app.spawn(['queue:work', '--queue', 'prune', '--lease', '1s']);
        try {
          await waitFor(async () => !(await rows(app)).some((r) => r.id === old), {
            message: 'the entry an hour old was never pruned',
          });
          const left = await rows(app);
          expect(left.map((r) => r.id)).toContain(stale);
          expect(left).toHaveLength(2);
        } finally {
          expect((await worker.stop('SIGTERM', 10_000)).code).toBe(0);
        }
        expect((await rows(app)).map((r) => r.id)).toEqual([stale]);
        await (await app.db()).knex('workers').delete();
      },
      SLOW,
    );
  });
}
