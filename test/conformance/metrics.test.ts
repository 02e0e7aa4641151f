import { describe, expect, it } from 'vitest';
import { defineJob } from '../../src/jobs/define.js';
import { MetricsRecorder } from '../../src/metrics/recorder.js';
import { sumMetrics } from '../../src/metrics/store.js';
import { EXIT } from '../../src/worker/options.js';
import { drivers } from './drivers.js';
import { exitOf, newJob, startWorker, useHarness } from './support.js';

/*
 * The metrics a worker records agree with the truth: 1,000 jobs whose outcomes are known in
 * advance give exact counts in job_metrics, on every driver (the table is in the SQL storage
 * for all of them), with the recorder flushing many times while the worker runs.
 */

const OK = 500; // succeed at once
const FLAKY = 300; // fail once, then succeed
const BAD = 200; // fail both of their 2 tries

const ok = defineJob({ name: 'metrics.ok', tries: 2, backoff: [0], handle: async () => 'ok' });
const flaky = defineJob({
  name: 'metrics.flaky',
  tries: 2,
  backoff: [0],
  async handle(_p: unknown, ctx) {
    if (ctx.attempt === 1) throw new Error('first try fails');
  },
});
const bad = defineJob({
  name: 'metrics.bad',
  tries: 2,
  backoff: [0],
  async handle() {
    throw new Error('always fails');
  },
});

for (const d of drivers) {
  describe.skipIf(!d.available())(`${d.name}: metrics`, () => {
    const harness = useHarness(d);

    it('counts 1,000 jobs with known outcomes exactly, per job name, over many flushes', async () => {
      const h = harness();
      const rows = [
        ...Array.from({ length: OK }, () => newJob({ name: 'metrics.ok', maxTries: 2 })),
        ...Array.from({ length: FLAKY }, () => newJob({ name: 'metrics.flaky', maxTries: 2 })),
        ...Array.from({ length: BAD }, () => newJob({ name: 'metrics.bad', maxTries: 2 })),
      ];
      for (let i = 0; i < rows.length; i += 250) await h.driver.push(rows.slice(i, i + 250));
      const errors: string[] = [];
      const recorder = new MetricsRecorder({
        knex: h.knex,
        retentionMs: 86_400_000,
        flushEveryMs: 20,
        onError: (error, during) => errors.push(`${during}: ${error.message}`),
      });
      let flushes = 0;
      const flush = recorder.flush.bind(recorder);
      recorder.flush = async () => {
        flushes++;
        return flush();
      };
      const w = startWorker(h, [ok, flaky, bad], { stopWhenEmpty: true, concurrency: 20 });
      const detach = recorder.attach(w.worker);
      recorder.start();
      expect(await exitOf(w, 15_000)).toBe(EXIT.OK);
      detach();
      expect(await recorder.stop()).toBe(true);
      expect(flushes).toBeGreaterThan(2);
      expect(errors).toEqual([]);

      const totals = await sumMetrics(h.knex, { since: 0 }, 'job');
      const byName = Object.fromEntries(totals.map((t) => [t.name!, t]));
      expect(Object.keys(byName).sort()).toEqual(['metrics.bad', 'metrics.flaky', 'metrics.ok']);
      const counts = (name: string) => {
        const t = byName[name]!;
        return {
          processed: t.processed,
          succeeded: t.succeeded,
          failed: t.failed,
          retried: t.retried,
          cancelled: t.cancelled,
          skipped: t.skipped,
          runtimeCount: t.runtimeCount,
          histogram: t.buckets.reduce((a, b) => a + b, 0),
        };
      };
      const runs = (n: number) => ({ runtimeCount: n, histogram: n, cancelled: 0, skipped: 0 });
      expect(counts('metrics.ok')).toEqual({
        processed: OK,
        succeeded: OK,
        failed: 0,
        retried: 0,
        ...runs(OK),
      });
      expect(counts('metrics.flaky')).toEqual({
        processed: FLAKY,
        succeeded: FLAKY,
        failed: 0,
        retried: FLAKY,
        ...runs(2 * FLAKY),
      });
      expect(counts('metrics.bad')).toEqual({
        processed: BAD,
        succeeded: 0,
        failed: BAD,
        retried: BAD,
        ...runs(2 * BAD),
      });
      // What the worker's own events say, the other truth the counts must agree with.
      expect(w.of('job:processed')).toHaveLength(OK + FLAKY);
      expect(w.of('job:failed')).toHaveLength(BAD);
      // A wait is counted for every start: every driver says when a job became ready
      // (ClaimedJob.readyAt, docs/lifecycle.md), on its first attempt and after a release.
      const waits = totals.reduce((a, t) => a + t.waitCount, 0);
      expect(waits).toBe(OK + 2 * FLAKY + 2 * BAD);
    });
  });
}
