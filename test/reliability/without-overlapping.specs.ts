/**
 * Reliability: withoutOverlapping's lock is a lease that outlives no dead holder (issue 12).
 * Two `run queue:work` processes; the first runs a job holding the lock of key `k` and keeps it
 * past several leases (renewed); the second keeps finding it held and puts its own job of key
 * `k` back without spending an attempt. The first is killed with SIGKILL while it holds the
 * lock: no release, no more renewals. The second's job then starts once the lease runs out, not
 * before, and not later than a small margin after.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { redisCommands } from '../helpers/services.js';
import { waitFor } from '../helpers/wait.js';
import {
  createApp,
  describeBackend,
  migrate,
  type BackendKind,
  type RunRecord,
  type TestApp,
} from './harness.js';

/** The lock's lease: renewed every second while the holder runs. */
const EXPIRE_AFTER_MS = 3_000;

/**
 * How late after the lease's end the waiting job may start. A job put back by
 * withoutOverlapping comes due exactly when the holder's lease ends (the lease is shorter than
 * releaseAfter here, so releaseAfter never decides), and an idle worker wakes when a delayed job
 * comes due; what remains is that wake-up, one claim, one lock acquire and the handler's first
 * line, on a machine busy with other test processes. A put-back that waited for releaseAfter
 * (30 s) instead, or a lock that outlived its lease, would miss it by seconds.
 */
const CLAIM_MARGIN_MS = 1_000;

/** The app: one job, `locked`, locked per key; its handler records start and done as the harness's jobs do. */
const CONFIG = `
import { appendFileSync } from 'node:fs';
import { defineConfig, defineJob, withoutOverlapping } from 'jobsmith';
import { z } from 'zod';

const runsFile = process.env.RUNS_FILE!;
const record = (event: string, id: string, attempt: number) =>
  appendFileSync(runsFile, \`\${event} \${id} \${attempt} \${process.pid} \${Date.now()}\\n\`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const locked = defineJob({
  name: 'locked',
  schema: z.object({ key: z.string(), ms: z.number() }),
  tries: 1,
  timeout: 300,
  middleware: [
    withoutOverlapping((p) => p.key, { expireAfter: '${EXPIRE_AFTER_MS}ms', releaseAfter: '30s' }),
  ],
  async handle(p, ctx) {
    record('start', ctx.jobId, ctx.attempt);
    await sleep(p.ms);
    record('done', ctx.jobId, ctx.attempt);
  },
});

export default defineConfig({ jobs: [locked] });
`;

/**
 * When the lock of `locked#k` ends, on the test's clock: [earliest, latest]. SQL: the stored
 * epoch ms, from the database clock, which on this machine is the test's clock. Redis: PTTL,
 * counted from before and after the round trip that read it.
 */
async function lockExpiry(app: TestApp, kind: BackendKind): Promise<[number, number]> {
  if (kind === 'redis') {
    const before = Date.now();
    const [ttl] = await redisCommands(app.env.REDIS_URL!, [
      ['PTTL', `${app.env.REDIS_PREFIX}:jobsmith:lock:locked#k`],
    ]);
    const after = Date.now();
    expect(Number(ttl)).toBeGreaterThan(0);
    return [before + Number(ttl) - 1, after + Number(ttl)];
  }
  const rows = await app.backend.query('select expires_at from job_locks where key = ?', [
    'locked#k',
  ]);
  expect(rows).toHaveLength(1);
  const at = Number(rows[0]!.expires_at);
  return [at, at];
}

export function withoutOverlappingSpecs(kind: BackendKind): void {
  describeBackend(kind, 'reliability: withoutOverlapping with a killed holder', () => {
    let app: TestApp;

    beforeEach(async () => {
      app = await createApp(kind);
      await migrate(app);
      writeFileSync(path.join(app.dir, 'jobsmith.config.ts'), CONFIG);
    });
    afterEach(async () => {
      await app?.cleanup();
    });

    it('the next job of the key starts when the killed holder’s lease runs out, not later', async () => {
      const startOf = (id: string): RunRecord | undefined =>
        app.runs().find((r) => r.id === id && r.event === 'start');

      // The holder: a long lease on its claim, so that its job does not come back in this test.
      const holder = app.worker(['--lease', '120']);
      const [holding] = await app.dispatch('locked', [{ key: 'k', ms: 120_000 }]);
      const held = (await waitFor(() => startOf(holding!), {
        timeoutMs: 20_000,
        message: 'the holder never started its job',
      })) as RunRecord;

      const waiter = app.worker([]);
      const [waiting] = await app.dispatch('locked', [{ key: 'k', ms: 10 }]);
      // Put back at least twice, and past one lease after the holder took the lock: held only
      // because the holder renewed it.
      await waitFor(
        () =>
          waiter.eventsOf('job:released', waiting).length >= 2 &&
          Date.now() > held.at + EXPIRE_AFTER_MS + 500,
        { timeoutMs: 20_000, message: 'the waiting job was not put back twice' },
      );
      expect(startOf(waiting!)).toBeUndefined();
      for (const back of waiter.eventsOf('job:released', waiting)) {
        expect(back).toMatchObject({ refunded: true });
        expect(String(back.error)).toMatch(
          /^withoutOverlapping: "locked#k" is held by another job/,
        );
      }

      await holder.stop('SIGKILL', 0);
      const [earliest, latest] = await lockExpiry(app, kind);
      const started = (await waitFor(() => startOf(waiting!), {
        timeoutMs: EXPIRE_AFTER_MS + 10_000,
        message: 'the waiting job never started after the holder was killed',
      })) as RunRecord;

      expect(started.pid).toBe(waiter.child.pid);
      // No attempt spent on any put-back: tries is 1.
      expect(started.attempt).toBe(1);
      expect(started.at).toBeGreaterThanOrEqual(earliest);
      expect(started.at).toBeLessThanOrEqual(latest + CLAIM_MARGIN_MS);
      await waitFor(() => app.runs().some((r) => r.id === waiting && r.event === 'done'), {
        timeoutMs: 5_000,
      });
      expect(await app.failedJobs()).toEqual([]);
    }, 90_000);
  });
}
