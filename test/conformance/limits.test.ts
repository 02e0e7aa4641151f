/**
 * The core ranges (src/jobs/limits.ts) hold on every backend: what dispatch accepts, each
 * storage keeps and gives back in the right order; what it refuses never reaches a storage;
 * and the waits a running handler asks for are stored as whole milliseconds.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineJob } from '../../src/jobs/define.js';
import { InvalidDispatchError, RetryAfter } from '../../src/jobs/errors.js';
import { MAX_PRIORITY, MAX_WAIT_MS } from '../../src/jobs/limits.js';
import { Dispatcher } from '../../src/queue/dispatcher.js';
import { EXIT } from '../../src/worker/options.js';
import { waitFor } from '../helpers/wait.js';
import { drivers } from './drivers.js';
import { claimWhenReady, exitOf, startWorker, useHarness } from './support.js';

const YEAR_MS = 365.25 * 86_400_000;

for (const d of drivers) {
  describe.skipIf(!d.available())(`${d.name}: the core ranges`, () => {
    const harness = useHarness(d);
    const noop = defineJob({ name: 'limits.noop', handle() {} });

    it('stores priorities at both ends of the range and claims the highest first', async () => {
      const h = harness();
      const dispatcher = new Dispatcher(async () => h.driver);
      for (const priority of [0, -MAX_PRIORITY, MAX_PRIORITY]) {
        await dispatcher.dispatch(noop, { priority }, { priority });
      }
      const order = [];
      for (let i = 0; i < 3; i++) {
        const job = await claimWhenReady(h.driver);
        order.push([JSON.parse(job.payload).priority, job.priority]);
      }
      expect(order).toEqual([
        [MAX_PRIORITY, MAX_PRIORITY],
        [0, 0],
        [-MAX_PRIORITY, -MAX_PRIORITY],
      ]);
    });

    it('refuses a priority or a queue outside the range before anything is stored', async () => {
      const h = harness();
      const dispatcher = new Dispatcher(async () => h.driver);
      const attempts: Array<[string, () => Promise<unknown>]> = [
        [
          'Cannot dispatch limits.noop: priority must be a whole number from -1048575 to 1048575, got 1048576.',
          () => dispatcher.dispatch(noop, {}, { priority: MAX_PRIORITY + 1 }),
        ],
        [
          'Cannot dispatch limits.noop: priority must be a whole number from -1048575 to 1048575, got -1048576.',
          () =>
            dispatcher.dispatchMany([
              { job: noop, payload: {}, options: { priority: -MAX_PRIORITY - 1 } },
            ]),
        ],
        [
          'Cannot dispatch limits.noop: queue "mail:high" holds ":", which Redis keeps as its key separator; use letters, digits and . _ - (at most 190 characters).',
          () => dispatcher.dispatch(noop, {}, { queue: 'mail:high' }),
        ],
        [
          `Cannot dispatch limits.noop: queue "x'; drop table jobs;--" is not a queue name; use letters, digits and . _ - (at most 190 characters).`,
          () => dispatcher.dispatch(noop, {}, { queue: "x'; drop table jobs;--" }),
        ],
      ];
      for (const [message, attempt] of attempts) {
        const error = await attempt().then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(InvalidDispatchError);
        expect((error as Error).message).toBe(message);
      }
      expect(await h.driver.list('default', undefined, 0, 10)).toEqual([]);
    });

    it('stores a delay of 100 years, and lists it as a date', async () => {
      const h = harness();
      const dispatcher = new Dispatcher(async () => h.driver);
      const before = Date.now();
      await dispatcher.dispatch(noop, {}, { delay: MAX_WAIT_MS });
      const [row] = await h.driver.list('default', undefined, 0, 10);
      expect(row!.state).toBe('delayed');
      expect(row!.availableAt).toBeGreaterThanOrEqual(before + MAX_WAIT_MS - 60_000);
      expect(row!.availableAt).toBeLessThanOrEqual(Date.now() + MAX_WAIT_MS + 60_000);
      expect(new Date(row!.availableAt).toISOString()).toMatch(/^2\d{3}-/);
    });

    it('keeps a unique key whose `for` is a fraction of a millisecond (stored as whole ms)', async () => {
      const h = harness();
      const once = defineJob({
        name: 'limits.once',
        unique: { key: () => 'the-one', for: 10.0005 },
        handle() {},
      });
      const dispatcher = new Dispatcher(async () => h.driver);
      const first = await dispatcher.dispatch(once, {});
      const second = await dispatcher.dispatch(once, {});
      expect(second).toEqual({ id: first.id, deduplicated: true });
    });

    it('retries after a backoff of a fraction of a millisecond (stored as whole ms)', async () => {
      const h = harness();
      const runs: number[] = [];
      const flaky = defineJob({
        name: 'limits.flaky',
        tries: 2,
        backoff: [0.0015],
        handle(_p: unknown, ctx) {
          runs.push(ctx.attempt);
          if (ctx.attempt === 1) throw new Error('first try fails');
        },
      });
      await new Dispatcher(async () => h.driver).dispatch(flaky, {});
      const w = startWorker(h, [flaky]);
      await waitFor(() => w.of('job:processed').length === 1, {
        message: 'the retry did not run',
      });
      expect(runs).toEqual([1, 2]);
      expect(w.of('job:released').map((e) => e.delayMs)).toEqual([2]);
      expect(w.of('job:processed')).toHaveLength(1);
    });

    it('puts a RetryAfter past 100 years off for the longest wait, not for none', async () => {
      const h = harness();
      let runs = 0;
      const never = defineJob({
        name: 'limits.never',
        handle() {
          runs++;
          // RetryAfter(Infinity) is refused when made (a RangeError); a finite wait past 100
          // years is clamped to the longest wait every backend stores.
          throw new RetryAfter(1e12);
        },
      });
      await new Dispatcher(async () => h.driver).dispatch(never, {});
      const w = startWorker(h, [never]);
      await waitFor(() => w.of('job:released').length > 0, { message: 'never released' });
      expect(w.of('job:released')[0]).toMatchObject({ delayMs: MAX_WAIT_MS, refunded: true });
      await waitFor(async () => (await h.driver.list('default', 'delayed', 0, 10)).length > 0, {
        message: 'the job was not delayed',
      });
      const [row] = await h.driver.list('default', 'delayed', 0, 10);
      expect(row!.availableAt).toBeGreaterThan(Date.now() + 99 * YEAR_MS);
      expect(runs).toBe(1);
    });

    it('gives a handler a Date back through z.coerce.date(), and refuses z.date() at dispatch', async () => {
      const h = harness();
      const dispatcher = new Dispatcher(async () => h.driver);
      const at = new Date('2026-05-01T09:30:00.123Z');
      const received: unknown[] = [];
      const coerced = defineJob({
        name: 'limits.coerced',
        schema: z.object({ at: z.coerce.date() }),
        handle(p) {
          received.push(p.at);
        },
      });
      const strict = defineJob({
        name: 'limits.strict',
        schema: z.object({ at: z.date() }),
        handle() {},
      });
      await expect(dispatcher.dispatch(strict, { at })).rejects.toThrow(
        'Invalid payload for job limits.strict once stored as JSON: at: Expected date, received string (at is a Date, which JSON stores as an ISO string). Fix: use z.coerce.date() for it in the schema, so the handler gets a Date back.',
      );
      await dispatcher.dispatch(coerced, { at });
      const w = startWorker(h, [coerced, strict], { stopWhenEmpty: true });
      expect(await exitOf(w)).toBe(EXIT.OK);
      expect(received).toEqual([at]);
      expect(received[0]).toBeInstanceOf(Date);
      expect(w.of('job:failed')).toEqual([]);
    });

    it('refuses from ctx.dispatch what dispatch refuses: the handler gets the error', async () => {
      const h = harness();
      const errors: string[] = [];
      const parent = defineJob({
        name: 'limits.parent',
        tries: 1,
        async handle(_p: unknown, ctx) {
          for (const [payload, options] of [
            [{ at: new Date(0) }, {}],
            [{}, { queue: 'x y' }],
          ] as const) {
            await ctx.dispatch(noop, payload, options).catch((e: Error) => errors.push(e.message));
          }
        },
      });
      await new Dispatcher(async () => h.driver).dispatch(parent, {});
      const w = startWorker(h, [parent, noop], { stopWhenEmpty: true });
      expect(await exitOf(w)).toBe(EXIT.OK);
      expect(errors).toEqual([
        'Payload for job limits.noop would change when stored as JSON: at is a Date, which JSON stores as an ISO string; pass date.toISOString() and read it with new Date(), or give the job a schema with z.coerce.date() for it so the handler gets a Date.',
        'Cannot dispatch limits.noop: queue "x y" is not a queue name; use letters, digits and . _ - (at most 190 characters).',
      ]);
      expect(await h.driver.list('default', undefined, 0, 10)).toEqual([]);
    });
  });
}
