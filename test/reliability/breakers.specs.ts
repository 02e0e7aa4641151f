/**
 * Reliability: one circuit breaker shared by four worker processes (issue 12). Three workers
 * run a steady stream of jobs of breaker `upstream`; the fourth runs jobs of the same breaker
 * on another queue, which fail. Their failures open the breaker, and the other three start no
 * job of it within a second; when the cooldown ends one probe runs, in one process, and the
 * rest wait: a failed probe opens it again (nothing else ran meanwhile), a good one closes it,
 * and every held job then runs on its first attempt.
 */
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { waitFor } from '../helpers/wait.js';
import {
  createApp,
  describeBackend,
  migrate,
  waitForEmptyQueue,
  type BackendKind,
  type TestApp,
  type WorkerEvent,
} from './harness.js';

const STEADY_JOBS = 600;
// Long enough that the outage below begins well before the first probe, on a slow machine too.
const COOLDOWN_MS = 3_000;

/**
 * The app: job `call` {ms, fail?} of breaker `upstream` (3 failures in 1m open it for 3s)
 * records `start`, sleeps ms, then throws when `fail` is set or RUNS_FILE.down exists, else
 * records `done`. Tries 1, so an attempt spent on a held job would fail it.
 */
const CONFIG = `
import { appendFileSync, existsSync } from 'node:fs';
import { defineConfig, defineJob } from 'jobsmith';
import { z } from 'zod';

const runsFile = process.env.RUNS_FILE!;
const record = (event: string, id: string, attempt: number) =>
  appendFileSync(runsFile, \`\${event} \${id} \${attempt} \${process.pid} \${Date.now()}\\n\`);

const call = defineJob({
  name: 'call',
  schema: z.object({ ms: z.number(), fail: z.boolean().optional() }),
  tries: 1,
  breaker: { name: 'upstream', failures: 3, window: '1m', cooldown: ${COOLDOWN_MS / 1000} },
  async handle(p, ctx) {
    record('start', ctx.jobId, ctx.attempt);
    await new Promise((resolve) => setTimeout(resolve, p.ms));
    if (p.fail || existsSync(runsFile + '.down')) throw new Error('upstream is down');
    record('done', ctx.jobId, ctx.attempt);
  },
});

export default defineConfig({ jobs: [call] });
`;

const at = (e: WorkerEvent) => Date.parse(String(e.time));

export function breakerSpecs(kind: BackendKind): void {
  describeBackend(kind, 'reliability: a circuit breaker shared by four workers', () => {
    let app: TestApp;
    beforeEach(async () => {
      app = await createApp(kind);
      writeFileSync(path.join(app.dir, 'jobsmith.config.ts'), CONFIG);
      await migrate(app);
    });
    afterEach(async () => {
      await app?.cleanup();
    });

    it('failures in one process stop the other three within a second; half-open runs one probe', async () => {
      const down = path.join(app.dir, 'runs.log.down');
      const dispatch = async (queue: string, payloads: unknown[]) => {
        const input = payloads.map((p) => JSON.stringify(p)).join('\n') + '\n';
        const result = await app.run(['queue:dispatch', 'call', '--queue', queue, '--json'], {
          input,
          timeoutMs: 60_000,
        });
        expect(result.code, result.stderr).toBe(0);
      };
      await dispatch(
        'steady',
        Array.from({ length: STEADY_JOBS }, () => ({ ms: 50 })),
      );
      const args = ['--sleep', '100ms', '--lease', '10s'];
      const steady = [1, 2, 3].map((i) =>
        app.worker(['--queue', 'steady', '--concurrency', '2', '--name', `s${i}`, ...args], {
          timeoutMs: 90_000,
        }),
      );
      const boom = app.worker(['--queue', 'boom', '--name', 'boom', ...args], {
        timeoutMs: 90_000,
      });
      const steadyPids = new Set(steady.map((w) => w.child.pid));
      const steadyStarts = () =>
        app.runs().filter((r) => r.event === 'start' && steadyPids.has(r.pid));
      await waitFor(() => new Set(steadyStarts().map((r) => r.pid)).size === 3, {
        timeoutMs: 20_000,
        message: 'the steady workers did not all start jobs',
      });

      await dispatch('boom', [
        { ms: 0, fail: true },
        { ms: 0, fail: true },
        { ms: 0, fail: true },
      ]);
      const [opened] = await boom.waitForEvents((e) => e.event === 'breaker:opened', 1, 20_000);
      expect(opened).toMatchObject({ name: 'upstream', failures: 3, reopened: false });
      const openedAt = at(opened!);
      // The other processes may still start jobs during the first second after it opened (each
      // worker caches an admission for up to 100 ms, and the promise is "within a second"): wait
      // out that second and for the jobs let in to finish, so that none of them meets the
      // outage below; from then on, only probes start, and they fail.
      await waitFor(
        () => {
          if (Date.now() <= openedAt + 1_000) return false;
          const runs = app.runs();
          const done = new Set(runs.filter((r) => r.event === 'done').map((r) => r.id));
          return steadyStarts().every((r) => done.has(r.id));
        },
        { timeoutMs: 5_000, message: 'jobs running when it opened did not finish' },
      );
      writeFileSync(down, '');

      const all = [...steady, boom];
      const events = (name: string) =>
        all
          .flatMap((w) => w.events().filter((e) => e.event === name))
          .sort((a, b) => at(a) - at(b));
      await waitFor(() => events('breaker:opened').some((e) => e.reopened === true), {
        timeoutMs: 20_000,
        message: 'the first probe did not re-open the breaker',
      });
      rmSync(down);
      await waitFor(() => events('breaker:closed').length === 1, {
        timeoutMs: 20_000,
        message: 'the second probe did not close the breaker',
      });
      expect(await waitForEmptyQueue(app, 60_000)).toBe(true);

      // The breaker was held open by the steady workers when it opened: this test could fail.
      const before = steadyStarts().filter((r) => r.at <= openedAt && r.at > openedAt - 1_000);
      expect(new Set(before.map((r) => r.pid)).size).toBeGreaterThanOrEqual(2);

      const halfOpen = events('breaker:half-open');
      expect(halfOpen).toHaveLength(2);
      const [firstProbe, secondProbe] = halfOpen;
      expect(at(firstProbe!)).toBeGreaterThanOrEqual(openedAt + COOLDOWN_MS - 50);
      // From a second after it opened until the second probe: only the first probe started.
      const meanwhile = steadyStarts().filter(
        (r) => r.at > openedAt + 1_000 && r.at < at(secondProbe!),
      );
      expect(meanwhile.map((r) => r.id)).toEqual([firstProbe!.jobId]);
      expect(events('breaker:opened').map((e) => e.reopened)).toEqual([false, true]);
      expect(events('breaker:closed')).toEqual([
        expect.objectContaining({ name: 'upstream', jobId: secondProbe!.jobId }),
      ]);

      // Held jobs spent no attempt: every job ran on attempt 1, and only the failing ones failed.
      expect(app.runs().every((r) => r.attempt === 1)).toBe(true);
      const failed = await app.failedJobs();
      expect(failed).toHaveLength(4);
      const done = new Set(
        app
          .runs()
          .filter((r) => r.event === 'done')
          .map((r) => r.id),
      );
      expect(done.size).toBe(STEADY_JOBS - 1);
      expect(existsSync(down)).toBe(false);
      for (const w of all) expect(w.eventsOf('worker:error')).toEqual([]);
    }, 120_000);
  });
}
