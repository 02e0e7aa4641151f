/**
 * The shared circuit breaker (issue 12) on every driver: the store's decisions, seen from two
 * connections as two processes would see them (opens at the threshold, a fixed window, exactly
 * one probe when half-open, the probe's verdict, a dead probe's lease, reset), and the breaker
 * in a worker: jobs of an open breaker are put back without spending an attempt, `when`
 * chooses the errors that count, and the transitions are worker events.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { resolveBreaker, type BreakerOptions } from '../../src/flow/breakers/settings.js';
import type { BreakerStore } from '../../src/flow/breakers/store.js';
import { flowControl } from '../../src/flow/control.js';
import type { FlowEvent } from '../../src/flow/events.js';
import { defineJob } from '../../src/jobs/define.js';
import { Permanent } from '../../src/jobs/errors.js';
import { JobRegistry } from '../../src/jobs/registry.js';
import type { JobDefinition } from '../../src/jobs/types.js';
import { pausedQueues, restartRequestedAt } from '../../src/queue/control.js';
import { Dispatcher } from '../../src/queue/dispatcher.js';
import type { WorkerEvents } from '../../src/worker/events.js';
import { Worker } from '../../src/worker/worker.js';
import { waitFor } from '../helpers/wait.js';
import { drivers, type Harness } from './drivers.js';
import { pushOne, useHarness, WORKER_DEFAULTS } from './support.js';

const settings = (options: Partial<BreakerOptions> = {}) =>
  resolveBreaker({ name: 'upstream', ...options }, 'test');

/** The two views of one storage: this process's store and a second process's. */
async function stores(h: Harness): Promise<[BreakerStore, BreakerStore]> {
  return [h.driver.flow().breakers, (await h.connect()).flow().breakers];
}

/** Records `n` failures of closed-breaker jobs; returns the last transition. */
async function fail(store: BreakerStore, s: ReturnType<typeof settings>, n: number) {
  let last;
  for (let i = 0; i < n; i++) last = await store.record(s, 'failure');
  return last;
}

/** Opens the breaker and waits for its cooldown to end (a probe may be taken). */
async function openAndCoolDown(store: BreakerStore, s: ReturnType<typeof settings>) {
  expect(await fail(store, s, s.failures)).toMatchObject({ to: 'open' });
  await waitFor(async () => (await store.list())[0]?.state === 'half-open', {
    timeoutMs: 5_000,
    message: 'the cooldown did not end',
  });
}

/** A worker wired as `run queue:work` wires it, flow control included; stopped by `stop`. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function flowWorker(h: Harness, jobs: JobDefinition<any>[]) {
  const quiet = () => {};
  const dispatcher = new Dispatcher(async () => h.driver);
  const flowEvents: FlowEvent[] = [];
  // eslint-disable-next-line prefer-const -- the flow's emit needs the worker made below
  let worker: Worker;
  const flow = flowControl(h.driver, new Map(), (event) => {
    flowEvents.push(event);
    worker.emit(event.type, event as never);
  });
  worker = new Worker(
    { ...WORKER_DEFAULTS, sleepMs: 20 },
    {
      driver: h.driver,
      registry: new JobRegistry(jobs),
      control: {
        pausedQueues: () => pausedQueues(h.knex),
        restartRequestedAt: () => restartRequestedAt(h.knex),
      },
      log: { debug: quiet, info: quiet, warn: quiet, error: quiet },
      dispatch: (job, payload, o) => dispatcher.dispatch(job, payload, o),
      flow,
    },
  );
  const released: Array<WorkerEvents['job:released'][0]> = [];
  const errors: Array<WorkerEvents['worker:error'][0]> = [];
  worker.on('job:released', (e) => released.push(e));
  worker.on('worker:error', (e) => errors.push(e));
  const exited = worker.run();
  return {
    flowEvents,
    released,
    async stop() {
      worker.stop();
      worker.stop();
      await exited;
      expect(errors.map((e) => `${e.during}: ${e.error.message}`)).toEqual([]);
    },
  };
}

for (const d of drivers) {
  describe.skipIf(!d.available())(`${d.name}: circuit breakers`, () => {
    const harness = useHarness(d);

    it('opens at the threshold, for every connection, until the cooldown ends', async () => {
      const [a, b] = await stores(harness());
      const s = settings({ failures: 3, window: '1m', cooldown: '1m' });
      expect(await b.admit(s)).toEqual({ run: true });
      expect(await fail(a, s, 2)).toBeUndefined();
      expect(await b.admit(s)).toEqual({ run: true });
      expect((await a.list())[0]).toMatchObject({ state: 'closed', failures: 2 });
      const opened = await b.record(s, 'failure');
      expect(opened).toMatchObject({ to: 'open', failures: 3, reopened: false });
      const admission = await a.admit(s);
      expect(admission).toMatchObject({ run: false, state: 'open' });
      const wait = (admission as { retryAfterMs: number }).retryAfterMs;
      expect(wait).toBeGreaterThan(55_000);
      expect(wait).toBeLessThanOrEqual(60_000);
      // A job let in before it opened, failing after: the cooldown is not pushed back.
      expect(await a.record(s, 'failure')).toBeUndefined();
      expect((await b.list())[0]).toMatchObject({ state: 'open', failures: 3, probing: false });
    });

    it('counts failures in a fixed window: once it has passed, the count starts again', async () => {
      const [a] = await stores(harness());
      const s = settings({ failures: 2, window: '300ms', cooldown: '1m' });
      expect(await a.record(s, 'failure')).toBeUndefined();
      await waitFor(async () => (await a.list())[0]?.failures === 0, {
        timeoutMs: 3_000,
        message: 'the window did not pass',
      });
      expect(await a.record(s, 'failure')).toBeUndefined();
      expect((await a.admit(s)).run).toBe(true);
      expect(await a.record(s, 'failure')).toMatchObject({ to: 'open', failures: 2 });
    });

    it('half-open lets exactly one probe through, whichever connection asks', async () => {
      const [a, b] = await stores(harness());
      const s = settings({ failures: 1, cooldown: '200ms', probeLease: '1m' });
      await openAndCoolDown(a, s);
      const admissions = await Promise.all(
        Array.from({ length: 12 }, (_, i) => (i % 2 ? a : b).admit(s)),
      );
      const probes = admissions.filter((x) => x.run);
      expect(probes).toHaveLength(1);
      expect(probes[0]).toMatchObject({ run: true, probe: expect.any(String) });
      for (const waiting of admissions.filter((x) => !x.run)) {
        expect(waiting).toMatchObject({ run: false, state: 'half-open' });
        const wait = (waiting as { retryAfterMs: number }).retryAfterMs;
        expect(wait).toBeGreaterThan(0);
        expect(wait).toBeLessThanOrEqual(1_000);
      }
      expect((await b.list())[0]).toMatchObject({ state: 'half-open', probing: true });
    });

    it('a probe that succeeds closes the breaker and forgets its failures', async () => {
      const [a, b] = await stores(harness());
      const s = settings({ failures: 2, cooldown: '200ms' });
      await openAndCoolDown(a, s);
      const probe = await b.admit(s);
      expect(probe.run && probe.probe).toBeTruthy();
      expect(await b.record(s, 'success', (probe as { probe: string }).probe)).toEqual({
        to: 'closed',
      });
      expect(await a.admit(s)).toEqual({ run: true });
      expect((await a.list())[0]).toMatchObject({ state: 'closed', failures: 0, until: null });
      // Closed again: it takes the threshold again to open it.
      expect(await a.record(s, 'failure')).toBeUndefined();
      expect(await a.record(s, 'failure')).toMatchObject({ to: 'open', failures: 2 });
    });

    it('a probe that fails opens the breaker again for another cooldown', async () => {
      const [a, b] = await stores(harness());
      const s = settings({ failures: 1, cooldown: '300ms' });
      await openAndCoolDown(a, s);
      const probe = (await b.admit(s)) as { probe: string };
      const reopened = await b.record(s, 'failure', probe.probe);
      expect(reopened).toMatchObject({ to: 'open', reopened: true });
      const admission = await a.admit(s);
      expect(admission).toMatchObject({ run: false, state: 'open' });
      expect((admission as { retryAfterMs: number }).retryAfterMs).toBeLessThanOrEqual(300);
      // The same probe cannot decide twice.
      expect(await b.record(s, 'success', probe.probe)).toBeUndefined();
      expect((await a.list())[0]?.state).not.toBe('closed');
    });

    it('a dead probe’s lease runs out and the next job probes; the dead one’s verdict is ignored', async () => {
      const [a, b] = await stores(harness());
      const s = settings({ failures: 1, cooldown: '100ms', probeLease: '300ms' });
      await openAndCoolDown(a, s);
      const dead = (await a.admit(s)) as { probe: string };
      expect(dead.probe).toEqual(expect.any(String));
      expect(await b.admit(s)).toMatchObject({ run: false, state: 'half-open' });
      const next = (await waitFor(
        async () => {
          const x = await b.admit(s);
          return x.run ? x : false;
        },
        { timeoutMs: 5_000, intervalMs: 50, message: 'no second probe after the lease' },
      )) as { probe: string };
      expect(next.probe).toEqual(expect.any(String));
      expect(next.probe).not.toBe(dead.probe);
      expect(await a.record(s, 'success', dead.probe)).toBeUndefined();
      expect(await a.record(s, 'failure', dead.probe)).toBeUndefined();
      expect(await b.record(s, 'success', next.probe)).toEqual({ to: 'closed' });
    });

    it('a probe without a verdict (neutral) frees the breaker for the next probe at once', async () => {
      const [a, b] = await stores(harness());
      const s = settings({ failures: 1, cooldown: '100ms', probeLease: '1m' });
      await openAndCoolDown(a, s);
      const first = (await a.admit(s)) as { probe: string };
      expect(await a.record(s, 'neutral', first.probe)).toBeUndefined();
      expect(await b.admit(s)).toMatchObject({ run: true, probe: expect.any(String) });
    });

    it('reset closes an open breaker; resetting one never stored says so', async () => {
      const [a, b] = await stores(harness());
      const s = settings({ failures: 1, cooldown: '1h' });
      await a.record(s, 'failure');
      expect((await b.admit(s)).run).toBe(false);
      expect(await b.reset('upstream')).toBe(true);
      expect(await a.admit(s)).toEqual({ run: true });
      expect(await a.list()).toEqual([]);
      expect(await a.reset('upstream')).toBe(false);
      expect(await a.reset('other')).toBe(false);
    });

    it('keeps breakers apart by name', async () => {
      const [a] = await stores(harness());
      const one = resolveBreaker({ name: 'one', failures: 1, cooldown: '1h' }, 'test');
      const two = resolveBreaker({ name: 'two', failures: 1, cooldown: '1h' }, 'test');
      await a.record(one, 'failure');
      expect((await a.admit(one)).run).toBe(false);
      expect(await a.admit(two)).toEqual({ run: true });
      expect((await a.list()).map((x) => [x.name, x.state])).toEqual([['one', 'open']]);
    });

    it('in a worker: failures (Permanent too) open it; its other jobs are put back without spending an attempt', async () => {
      const h = harness();
      const runs: number[] = [];
      const job = defineJob({
        name: 'call',
        schema: z.object({ n: z.number() }),
        tries: 1,
        breaker: { name: 'upstream', failures: 2, cooldown: '1h' },
        handle(p) {
          runs.push(p.n);
          throw p.n === 1 ? new Permanent('HTTP 401') : new Error('HTTP 503');
        },
      });
      for (let n = 1; n <= 5; n++)
        await pushOne(h.driver, { name: 'call', payload: `{"n":${n}}`, maxTries: 1 });
      const w = flowWorker(h, [job]);
      await waitFor(() => w.released.length >= 3, { timeoutMs: 10_000 });
      await w.stop();
      expect(runs).toEqual([1, 2]);
      expect(w.flowEvents).toEqual([
        expect.objectContaining({
          type: 'breaker:opened',
          name: 'upstream',
          failures: 2,
          reopened: false,
          error: 'HTTP 503',
        }),
      ]);
      for (const e of w.released) {
        expect(e.refunded).toBe(true);
        expect(e.error.name).toBe('BreakerOpen');
        expect(e.error.message).toBe('Circuit breaker upstream is open');
        expect(e.delayMs).toBeGreaterThan(3_500_000);
      }
      const waiting = await h.driver.list('default', undefined, 0, 10);
      expect(waiting.map((j) => j.attempts)).toEqual([0, 0, 0]);
    });

    it('in a worker: the probe closes it and the held jobs run, each on its first attempt', async () => {
      const h = harness();
      let down = true;
      const attempts: number[] = [];
      const job = defineJob({
        name: 'call',
        tries: 1,
        breaker: { name: 'upstream', failures: 1, cooldown: '300ms' },
        handle(_p, ctx) {
          attempts.push(ctx.attempt);
          if (down) throw new Error('HTTP 503');
        },
      });
      await pushOne(h.driver, { name: 'call', maxTries: 1 });
      const w = flowWorker(h, [job]);
      await waitFor(() => w.flowEvents.length === 1, { timeoutMs: 5_000 });
      down = false;
      for (let i = 0; i < 3; i++) await pushOne(h.driver, { name: 'call', maxTries: 1 });
      await waitFor(async () => (await h.driver.list('default', undefined, 0, 10)).length === 0, {
        timeoutMs: 10_000,
        message: 'the held jobs did not run after the probe',
      });
      await w.stop();
      expect(w.flowEvents.map((e) => e.type)).toEqual([
        'breaker:opened',
        'breaker:half-open',
        'breaker:closed',
      ]);
      expect(attempts).toEqual([1, 1, 1, 1]);
    });

    it('in a worker: `when` chooses the errors that count', async () => {
      const h = harness();
      let runs = 0;
      const job = defineJob({
        name: 'call',
        tries: 1,
        breaker: {
          name: 'upstream',
          failures: 1,
          cooldown: '1h',
          when: (error) => error.message.includes('503'),
        },
        handle() {
          runs += 1;
          throw new Error(runs <= 3 ? 'HTTP 400' : 'HTTP 503');
        },
      });
      for (let i = 0; i < 5; i++) await pushOne(h.driver, { name: 'call', maxTries: 1 });
      const w = flowWorker(h, [job]);
      await waitFor(() => w.released.length >= 1, { timeoutMs: 10_000 });
      await w.stop();
      // Three 400s passed through; the first 503 opened it and held the fifth job.
      expect(runs).toBe(4);
      expect(w.flowEvents).toEqual([expect.objectContaining({ type: 'breaker:opened' })]);
      expect((await h.driver.flow().breakers.list())[0]).toMatchObject({ state: 'open' });
    });
  });
}
