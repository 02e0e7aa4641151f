import { EventEmitter } from 'node:events';
import type { Knex } from 'knex';
import { describe, expect, it } from 'vitest';
import { quantileOf, RUNTIME_BUCKET_COLUMNS, bucketOf } from '../src/metrics/buckets.js';
import { MetricsRecorder, PRUNE_SPAN_MS } from '../src/metrics/recorder.js';
import { statsRow } from '../src/metrics/stats.js';
import { sumMetrics } from '../src/metrics/store.js';
import type { ClaimedJob } from '../src/queue/driver.js';
import type { WorkerEvents } from '../src/worker/events.js';
import { drivers } from './conformance/drivers.js';
import { useHarness } from './conformance/support.js';

/** A job as a claim returns it, on queue `q`. */
function job(name: string, queue = 'q', readyAt?: number): ClaimedJob {
  return {
    id: '1',
    name,
    queue,
    payload: '{}',
    priority: 0,
    attempts: 1,
    maxTries: 3,
    token: 't',
    readyAt,
  };
}

/** A worker's events without a worker: the recorder only listens. */
function events() {
  return new EventEmitter<WorkerEvents>();
}

const MINUTE = 60_000;
const T0 = 1_800_000_000_000; // a minute's start

describe('runtime histogram', () => {
  it('puts a runtime in the first bucket whose bound holds it, past 2 minutes in the last', () => {
    expect(bucketOf(0)).toBe(0);
    expect(bucketOf(10)).toBe(0);
    expect(bucketOf(11)).toBe(1);
    expect(bucketOf(120_000)).toBe(11);
    expect(bucketOf(120_001)).toBe(12);
    expect(RUNTIME_BUCKET_COLUMNS).toHaveLength(13);
  });

  it('reads p95 inside its bucket, never above the largest runtime seen', () => {
    const counts = RUNTIME_BUCKET_COLUMNS.map(() => 0);
    counts[bucketOf(5)] = 90; // 90 runs of up to 10 ms
    counts[bucketOf(800)] = 10; // 10 runs of 500 ms to 1 s
    // Rank 95 is the 5th of the 10 in (500, 1000]: halfway.
    expect(quantileOf(counts, 0.95, 900)).toBe(750);
    expect(quantileOf(counts, 0.5, 900)).toBeCloseTo((50 / 90) * 10);
    expect(quantileOf(counts, 0.95, 600)).toBe(600);
    expect(
      quantileOf(
        RUNTIME_BUCKET_COLUMNS.map(() => 0),
        0.95,
        0,
      ),
    ).toBeUndefined();
  });
});

describe('queue:stats rows', () => {
  it('gives throughput over the range, failure share, average retries, runtime and wait', () => {
    const buckets = RUNTIME_BUCKET_COLUMNS.map(() => 0);
    buckets[bucketOf(100)] = 30;
    const row = statsRow(
      {
        queue: 'mail',
        processed: 20,
        succeeded: 15,
        failed: 5,
        retried: 10,
        deferred: 0,
        cancelled: 0,
        skipped: 0,
        abandoned: 0,
        runtimeCount: 30,
        runtimeSumMs: 3_000,
        runtimeMaxMs: 100,
        buckets,
        waitSumMs: 400,
        waitCount: 20,
      },
      10,
    );
    expect(row).toMatchObject({
      queue: 'mail',
      throughputPerMinute: 2,
      failureShare: 0.25,
      averageRetries: 0.5,
      averageRuntimeMs: 100,
      p95RuntimeMs: 97.5, // 95% of the way through the (50 ms, 100 ms] bucket
      averageWaitMs: 20,
    });
  });
});

for (const d of drivers.filter((f) => f.name !== 'redis')) {
  describe.skipIf(!d.available())(`${d.name} storage: metrics recorder`, () => {
    const harness = useHarness(d);

    function recorder(now: () => number, errors: string[] = []) {
      const h = harness();
      const r = new MetricsRecorder({
        knex: h.knex,
        retentionMs: 7 * 86_400_000,
        now,
        onError: (error, during) => errors.push(`${during}: ${error.message}`),
      });
      const source = events();
      r.attach(source);
      return { h, r, source, errors };
    }

    it('adds each flush to the rows already there, one row per minute, queue and job', async () => {
      let now = T0 + 1_000;
      const { h, r, source } = recorder(() => now);
      source.emit('job:processing', { job: job('a', 'q', now - 250) });
      source.emit('job:processed', { job: job('a'), durationMs: 40 });
      source.emit('job:released', {
        job: job('a'),
        durationMs: 7,
        delayMs: 0,
        error: new Error('x'),
        refunded: false,
      });
      expect(await r.flush()).toBe(true);
      source.emit('job:failed', {
        job: job('a'),
        durationMs: 130_000,
        reason: 'timeout',
        error: new Error('late'),
      });
      source.emit('job:failed', {
        job: job('a'),
        durationMs: 0,
        reason: 'poison',
        error: new Error('bad payload'),
      });
      source.emit('job:released', {
        job: job('a'),
        durationMs: 1,
        delayMs: 1000,
        error: new Error('429'),
        refunded: true,
      });
      source.emit('job:skipped', { job: job('b'), durationMs: 1 });
      source.emit('job:abandoned', { job: job('a'), durationMs: 5, error: new Error('stop') });
      source.emit('job:cancelled', { job: job('a'), durationMs: 20, reason: 'by admin' });
      expect(await r.flush()).toBe(true);
      now += MINUTE; // the next minute gets its own row
      source.emit('job:processed', { job: job('a'), durationMs: 5 });
      expect(await r.stop()).toBe(true);

      const rows = await h.knex('job_metrics').orderBy(['minute', 'name']);
      expect(rows.map((row) => [Number(row.minute), row.queue, row.name])).toEqual([
        [T0, 'q', 'a'],
        [T0, 'q', 'b'],
        [T0 + MINUTE, 'q', 'a'],
      ]);
      const [a] = await sumMetrics(h.knex, { since: T0, queue: 'q' }, 'job');
      expect(a).toMatchObject({
        name: 'a',
        processed: 5, // succeeded twice, failed twice, cancelled once
        succeeded: 2,
        failed: 2,
        cancelled: 1,
        retried: 1,
        deferred: 1,
        abandoned: 1,
        skipped: 0,
        // Runs that ran the handler: 40, 7, 130000 (timeout), 20, 5.
        runtimeCount: 5,
        runtimeSumMs: 130_072,
        runtimeMaxMs: 130_000,
        waitSumMs: 250,
        waitCount: 1,
      });
      expect(a!.buckets[bucketOf(130_000)]).toBe(1);
      const [b] = await sumMetrics(h.knex, { since: T0 }, 'job').then((t) => t.slice(1));
      expect(b).toMatchObject({ name: 'b', processed: 1, skipped: 1, runtimeCount: 0 });
    });

    it('keeps the counts of a failed flush and writes them once with the next, merged with counts made meanwhile', async () => {
      const now = T0;
      const { h, r, source, errors } = recorder(() => now);
      source.emit('job:processed', { job: job('a'), durationMs: 10 });
      expect(await r.flush()).toBe(true);
      source.emit('job:processed', { job: job('a'), durationMs: 10 });
      await h.knex.schema.renameTable('job_metrics', 'job_metrics_away');
      expect(await r.flush()).toBe(false);
      expect(errors).toHaveLength(1);
      expect(errors[0]).toMatch(/^metrics flush: /);
      source.emit('job:processed', { job: job('a'), durationMs: 10 });
      await h.knex.schema.renameTable('job_metrics_away', 'job_metrics');
      expect(await r.flush()).toBe(true);
      expect(await r.flush()).toBe(true); // nothing left: nothing written twice
      const [a] = await sumMetrics(h.knex, { since: T0 }, 'job');
      expect(a).toMatchObject({ processed: 3, runtimeCount: 3, runtimeSumMs: 30 });
    });

    it('writes a flush in one transaction: a failure in its last statement counts none of it', async () => {
      const now = T0;
      const { h, r, source, errors } = recorder(() => now);
      // 601 rows take two INSERT statements, in key order; the trigger fails the second, on the
      // row of queue `zpoison`, which sorts last.
      for (let i = 0; i < 600; i++) {
        source.emit('job:processed', { job: job(`job-${i}`), durationMs: 1 });
      }
      source.emit('job:processed', { job: job('x', 'zpoison'), durationMs: 1 });
      await poison(h.knex, d.name);
      expect(await r.flush()).toBe(false);
      expect(errors).toHaveLength(1);
      expect(Number((await h.knex('job_metrics').count({ n: '*' }))[0]!.n)).toBe(0);
      await cure(h.knex, d.name);
      expect(await r.flush()).toBe(true);
      const totals = await sumMetrics(h.knex, { since: 0 }, 'queue');
      expect(totals.map((t) => [t.queue, t.processed])).toEqual([
        ['q', 600],
        ['zpoison', 1],
      ]);
    });

    it('prunes rows older than the retention, at most an hour of minutes per call', async () => {
      const now = T0 + 10 * 86_400_000;
      const { h, r } = recorder(() => now);
      const cutoff = now - 7 * 86_400_000;
      const minutes = [
        cutoff - 2 * PRUNE_SPAN_MS,
        cutoff - PRUNE_SPAN_MS + MINUTE,
        cutoff - MINUTE,
        cutoff,
        now,
      ];
      await h
        .knex('job_metrics')
        .insert(minutes.map((minute) => ({ minute, queue: 'q', name: 'a', processed: 1 })));
      const left = async () =>
        (await h.knex('job_metrics').orderBy('minute')).map((row) => Number(row.minute));
      expect(await r.prune()).toBe(1);
      expect(await left()).toEqual(minutes.slice(1));
      expect(await r.prune()).toBe(2);
      expect(await r.prune()).toBe(0);
      expect(await left()).toEqual([cutoff, now]);
    });
  });
}

async function poison(knex: Knex, dialect: string): Promise<void> {
  if (dialect === 'sqlite') {
    await knex.raw(
      "create trigger metrics_poison before insert on job_metrics when new.queue = 'zpoison' begin select raise(abort, 'poisoned row'); end",
    );
    return;
  }
  await knex.raw(`create function metrics_poison() returns trigger as $$
    begin
      if new.queue = 'zpoison' then raise exception 'poisoned row'; end if;
      return new;
    end $$ language plpgsql`);
  await knex.raw(
    'create trigger metrics_poison before insert on job_metrics for each row execute function metrics_poison()',
  );
}

async function cure(knex: Knex, dialect: string): Promise<void> {
  if (dialect === 'sqlite') await knex.raw('drop trigger metrics_poison');
  else await knex.raw('drop trigger metrics_poison on job_metrics');
}
