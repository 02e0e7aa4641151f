/**
 * Live-job operations on every driver (issue 15, docs/lifecycle.md): tags stored with a job and
 * handed back by its claim with readyAt, find, promote, remove (never a held job), fenced
 * progress writes, listings by tag, keyset pages (bounded windows: issue 17), and
 * ctx.progress from a running handler.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineJob } from '../../src/jobs/define.js';
import {
  InvalidCursorError,
  LIST_PAGE_WINDOW,
  type JobPage,
  type JobPageQuery,
  type JobState,
  type Lease,
  type NewJob,
  type QueueDriver,
} from '../../src/queue/driver.js';
import { EXIT } from '../../src/worker/options.js';
import { waitFor } from '../helpers/wait.js';
import { drivers, type DriverFactory, type Harness } from './drivers.js';
import { exitOf, newJob, pushOne, sleep, startWorker } from './support.js';

const LEASE = 60_000;

/** An id of the driver's shape that names no job. */
function missingId(driver: QueueDriver, queue: string): string {
  return driver.connection === 'redis' ? `${queue}:999999` : '999999';
}

/** A queue of its own for each test: the tests of a driver share one storage. */
let queues = 0;
const queue = () => `admin${++queues}`;

/**
 * One storage per driver for the whole file (a fresh PostgreSQL database costs seconds): each
 * test works on queues of its own.
 */
function useSharedHarness(factory: DriverFactory): () => Harness {
  let current: Harness | undefined;
  beforeAll(async () => {
    current = await factory.setup();
  });
  afterAll(async () => {
    await current?.teardown();
  });
  return () => {
    if (!current) throw new Error('no harness: call inside a test');
    return current;
  };
}

/** `driver`, with its progress writes recorded (value and whether the lease held). */
function recordingProgress(driver: QueueDriver) {
  const writes: Array<{ value: string; stored: boolean }> = [];
  const spy = new Proxy(driver, {
    get(target, prop) {
      if (prop === 'progress') {
        return async (lease: Lease, value: string) => {
          const stored = await target.progress(lease, value);
          writes.push({ value, stored });
          return stored;
        };
      }
      const value: unknown = Reflect.get(target, prop);
      return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
    },
  });
  return { driver: spy, writes };
}

/** Every page of a listing, following `next` (bounded: a listing that never ends fails). */
async function everyPage(
  driver: QueueDriver,
  queue: string,
  query: Omit<JobPageQuery, 'after'>,
): Promise<JobPage[]> {
  const pages: JobPage[] = [];
  let after: string | undefined;
  for (let n = 0; n < 50; n++) {
    const page = await driver.listPage(queue, { ...query, after });
    expect(page.jobs.length).toBeLessThanOrEqual(query.limit);
    pages.push(page);
    if (page.next === null) return pages;
    after = page.next;
  }
  throw new Error('no last page after 50');
}

for (const d of drivers) {
  describe.skipIf(!d.available())(`${d.name}: live-job operations`, () => {
    const harness = useSharedHarness(d);

    it('stores tags with a job and hands them back with each claim, with when it could run', async () => {
      const { driver } = harness();
      const q = queue();
      const before = Date.now();
      const tagged = await pushOne(driver, { queue: q, tags: ['post:42', 'user:7'] });
      const plain = await pushOne(driver, { queue: q });
      const claimed = await driver.claim([q], 10, LEASE);
      expect(claimed.map((j) => [j.id, j.tags ?? []])).toEqual([
        [tagged, ['post:42', 'user:7']],
        [plain, []],
      ]);
      for (const job of claimed) {
        // The storage clock may differ from ours by a little.
        expect(job.readyAt).toBeGreaterThanOrEqual(before - 1_000);
        expect(job.readyAt).toBeLessThanOrEqual(Date.now() + 1_000);
      }

      // Released, it could run again once its delay is over.
      const first = claimed[0]!;
      const releasedAt = Date.now();
      expect(await driver.release(first, { delayMs: 300 })).toBe(true);
      const again = await waitFor(async () => (await driver.claim([q], 1, LEASE))[0] ?? false, {
        timeoutMs: 3_000,
        message: 'the released job did not come back',
      });
      expect(again.id).toBe(tagged);
      expect(again.tags).toEqual(['post:42', 'user:7']);
      expect(again.readyAt).toBeGreaterThanOrEqual(releasedAt + 300 - 1_000);
      expect(again.readyAt).toBeGreaterThan(first.readyAt!);
    });

    it('finds a live job in any state, with its tags and fenced progress; null for an unknown id', async () => {
      const { driver } = harness();
      const q = queue();
      const pending = await pushOne(driver, { queue: q, payload: '{"n":1}', tags: ['a'] });
      const delayed = await pushOne(driver, { queue: q, delayMs: 60_000 });
      const [held] = await driver.claim([q], 1, LEASE);
      expect(held!.id).toBe(pending);
      expect(await driver.progress(held!, '{"done":3,"of":10}')).toBe(true);

      expect(await driver.find(pending)).toMatchObject({
        id: pending,
        name: 'conformance.noop',
        queue: q,
        state: 'reserved',
        attempts: 1,
        maxTries: 3,
        payload: '{"n":1}',
        tags: ['a'],
        progress: { done: 3, of: 10 },
      });
      expect(await driver.find(delayed)).toMatchObject({
        id: delayed,
        state: 'delayed',
        tags: [],
        progress: null,
      });
      expect(await driver.find(missingId(driver, q))).toBeNull();
      expect(await driver.find('not-an-id')).toBeNull();

      // Progress writes are fenced by the claim's token.
      expect(await driver.progress({ id: pending, token: 'not-the-token' }, '50')).toBe(false);
      expect(await driver.progress(held!, '75')).toBe(true);
      expect((await driver.find(pending))!.progress).toBe(75);
      expect(await driver.release(held!, { delayMs: 60_000 })).toBe(true);
      expect(await driver.progress(held!, '99')).toBe(false);
      expect((await driver.find(pending))!.progress).toBe(75);
      // Finished jobs are not live.
      const [again] = await driver.claim([q], 1, LEASE);
      expect(await driver.promote([pending])).toEqual([pending]);
      const [back] = await driver.claim([q], 1, LEASE);
      expect(back!.id).toBe(pending);
      expect(again).toBeUndefined();
      expect(await driver.complete([back!])).toEqual([pending]);
      expect(await driver.find(pending)).toBeNull();
    });

    it('promotes delayed jobs to run now, and nothing else', async () => {
      const { driver } = harness();
      const q = queue();
      const delayed = await pushOne(driver, { queue: q, delayMs: 3_600_000 });
      const pending = await pushOne(driver, { queue: q });
      const held = await pushOne(driver, { queue: `${q}h` });
      await driver.claim([`${q}h`], 1, LEASE);
      expect(await driver.claim([q], 10, LEASE).then((c) => c.map((j) => j.id))).toEqual([pending]);
      const promoted = await driver.promote([delayed, pending, held, missingId(driver, q), 'x']);
      expect(promoted).toEqual([delayed]);
      expect((await driver.find(delayed))!.state).toBe('pending');
      const [next] = await driver.claim([q], 1, LEASE);
      expect(next?.id).toBe(delayed);
      expect(await driver.promote([delayed])).toEqual([]);
    });

    it('puts a promoted job behind the ready ones, from its promotion on, and lists a queue in the order it runs', async () => {
      const { driver } = harness();
      const q = queue();
      const delayed = await pushOne(driver, { queue: q, delayMs: 3_600_000 });
      const retried = await pushOne(driver, { queue: q });
      const ready = await pushOne(driver, { queue: q });
      const later = await pushOne(driver, { queue: q, delayMs: 3_600_000 });
      const urgent = await pushOne(driver, { queue: q, priority: 5 });
      const [first, second] = await driver.claim([q], 2, LEASE);
      expect([first!.id, second!.id]).toEqual([urgent, retried]);
      expect(await driver.release(second!, { delayMs: 0 })).toBe(true);
      await sleep(50); // so that its promotion is clearly after the dispatch of `ready`
      expect(await driver.promote([delayed])).toEqual([delayed]);

      const listed = (await driver.list(q, undefined, 0, 10)).map((r) => r.id);
      // The held job of the higher priority first, the ready one before the promoted and the
      // retried ones (which of those two comes first is the driver's), the delayed one last.
      expect(listed[0]).toBe(urgent);
      expect(listed[1]).toBe(ready);
      expect(listed.slice(2, 4).sort()).toEqual([delayed, retried].sort());
      expect(listed[4]).toBe(later);
      const pending = (await driver.list(q, 'pending', 0, 10)).map((r) => r.id);
      expect(pending).toEqual(listed.slice(1, 4));
      const claimed = await driver.claim([q], 3, LEASE);
      expect(claimed.map((j) => j.id)).toEqual(pending);
      // It could run from its promotion (for wait times), not from its dispatch: after `ready`
      // could (both times are the storage's clock).
      const promoted = claimed.find((j) => j.id === delayed)!;
      const readyAt = claimed.find((j) => j.id === ready)!.readyAt!;
      expect(promoted.readyAt).toBeGreaterThanOrEqual(readyAt + 25);
      expect(promoted.readyAt).toBeLessThanOrEqual(Date.now() + 1_000);
    });

    it('removes waiting jobs, never one a worker holds, and frees their unique keys', async () => {
      const { driver } = harness();
      const q = queue();
      const unique = { key: 'rm:1', forMs: 3_600_000 };
      const pending = await pushOne(driver, { queue: q, unique });
      const delayed = await pushOne(driver, { queue: q, delayMs: 3_600_000 });
      const held = await pushOne(driver, { queue: `${q}h` });
      const [claimed] = await driver.claim([`${q}h`], 1, LEASE);

      const removed = await driver.remove([pending, delayed, held, missingId(driver, q)]);
      expect(removed.sort()).toEqual([pending, delayed].sort());
      expect(await driver.find(pending)).toBeNull();
      expect(await driver.find(delayed)).toBeNull();
      expect((await driver.find(held))!.state).toBe('reserved');
      expect(await driver.list(q, undefined, 0, 10)).toEqual([]);
      // The key went with its job.
      expect((await driver.push([newJob({ queue: q, unique })]))[0]!.deduplicated).toBe(false);
      // The holder still settles its job.
      expect(await driver.complete([claimed!])).toEqual([held]);
      expect(await driver.remove([pending])).toEqual([]);
    });

    it('lists the jobs that carry a tag, with their tags and progress', async () => {
      const { driver } = harness();
      const q = queue();
      const a = await pushOne(driver, { queue: q, tags: ['post:42'] });
      await pushOne(driver, { queue: q, tags: ['post:420'] });
      const c = await pushOne(driver, { queue: q, tags: ['user:1', 'post:42'], delayMs: 60_000 });
      await pushOne(driver, { queue: q });
      const rows = await driver.list(q, undefined, 0, 10, { tag: 'post:42' });
      expect(rows.map((r) => [r.id, r.state, r.tags])).toEqual([
        [a, 'pending', ['post:42']],
        [c, 'delayed', ['user:1', 'post:42']],
      ]);
      expect(rows[0]!.progress).toBeNull();
      expect((await driver.list(q, 'delayed', 0, 10, { tag: 'post:42' })).map((r) => r.id)).toEqual(
        [c],
      );
      expect(await driver.list(q, undefined, 1, 10, { tag: 'post:42' })).toHaveLength(1);
      expect(await driver.list(q, undefined, 0, 10, { tag: 'nope' })).toEqual([]);
      expect(await driver.list(q, undefined, 0, 10)).toHaveLength(4);
    });

    it('pages a queue by keyset: every job once, filters kept, a page right while jobs are taken', async () => {
      const { driver } = harness();
      const q = queue();
      const ids: string[] = [];
      for (let i = 0; i < 7; i++) {
        ids.push(
          await pushOne(driver, {
            queue: q,
            priority: i % 3 === 0 ? 2 : 0,
            delayMs: i === 5 ? 3_600_000 : 0,
            tags: i % 2 === 0 ? ['even'] : [],
            name: i === 6 ? 'conformance.other' : 'conformance.noop',
          }),
        );
      }
      await driver.claim([q], 1, LEASE);
      const all = async (query: Omit<JobPageQuery, 'limit' | 'after'>) => {
        const seen: string[] = [];
        let after: string | undefined;
        for (let pages = 0; pages < 20; pages++) {
          const page = await driver.listPage(q, { ...query, limit: 2, after });
          expect(page.jobs.length).toBeLessThanOrEqual(2);
          seen.push(...page.jobs.map((j) => j.id));
          if (page.next === null) return seen;
          after = page.next;
        }
        throw new Error('no last page after 20');
      };
      const listed = (await driver.list(q, undefined, 0, 100)).map((r) => r.id);
      const paged = await all({});
      expect(new Set(paged).size).toBe(paged.length);
      expect([...paged].sort()).toEqual([...ids].sort());
      // SQL storage pages in list's order; Redis one structure after another (driver.ts).
      if (driver.connection !== 'redis') expect(paged).toEqual(listed);
      const states = async (state: JobState) =>
        (await driver.list(q, state, 0, 100)).map((r) => r.id).sort();
      for (const state of ['pending', 'delayed', 'reserved'] as const) {
        expect((await all({ state })).sort()).toEqual(await states(state));
      }
      expect((await all({ tag: 'even' })).sort()).toEqual([ids[0], ids[2], ids[4], ids[6]].sort());
      expect(await all({ name: 'conformance.other' })).toEqual([ids[6]]);

      // The jobs of the first page are taken meanwhile: the next page neither repeats nor skips.
      const r = queue();
      const more: string[] = [];
      for (let i = 0; i < 6; i++) more.push(await pushOne(driver, { queue: r }));
      const first = await driver.listPage(r, { limit: 2 });
      expect(first.jobs.map((j) => j.id)).toEqual(more.slice(0, 2));
      await driver.claim([r], 2, LEASE);
      const second = await driver.listPage(r, { limit: 2, after: first.next!, state: 'pending' });
      expect(second.jobs.map((j) => j.id)).toEqual(more.slice(2, 4));

      await expect(driver.listPage(q, { limit: 2, after: 'garbage' })).rejects.toThrow(
        InvalidCursorError,
      );
    });

    it('pages delayed and pending jobs across priorities exactly, every page full until the last', async () => {
      const { driver } = harness();
      const q = queue();
      // Three priorities, pending and delayed jobs pushed in turn (a delayed job's place in the
      // ready line is its due time: after the pending ones of its priority).
      const jobs: Array<Partial<NewJob>> = [];
      for (let i = 0; i < 24; i++) {
        jobs.push({
          queue: q,
          priority: [5, 0, -3][i % 3],
          delayMs: i % 2 === 0 ? 3_600_000 * (24 - i) : 0,
        });
      }
      for (const job of jobs) await pushOne(driver, job);
      await driver.claim([q], 2, LEASE);
      for (const state of ['delayed', 'pending'] as const) {
        const expected = (await driver.list(q, state, 0, 100)).map((r) => r.id);
        expect(expected.length).toBeGreaterThanOrEqual(10);
        const pages = await everyPage(driver, q, { state, limit: 3 });
        const paged = pages.flatMap((p) => p.jobs.map((j) => j.id));
        expect(new Set(paged).size).toBe(paged.length);
        if (driver.connection === 'redis') {
          expect([...paged].sort()).toEqual([...expected].sort());
        } else {
          expect(paged).toEqual(expected);
          // A state is a stretch of each priority's entries: no page comes back short.
          for (const page of pages.slice(0, -1)) expect(page.jobs).toHaveLength(3);
        }
        for (const page of pages) expect(page.jobs.every((j) => j.state === state)).toBe(true);
      }
    });

    it('finds a rare tag in a queue longer than a page window by paging on: short pages with a next, no duplicate, no gap', async () => {
      const { driver } = harness();
      const q = queue();
      const total = LIST_PAGE_WINDOW + 500;
      const rare = new Set([10, LIST_PAGE_WINDOW + 300, LIST_PAGE_WINDOW + 450]);
      const batch = Array.from({ length: total }, (_, i) =>
        newJob({
          queue: q,
          tags: rare.has(i) ? ['rare'] : ['common'],
          name: rare.has(i) ? 'conformance.other' : 'conformance.noop',
        }),
      );
      const ids = (await driver.push(batch)).map((r) => r.id);
      const tagged = ids.filter((_, i) => rare.has(i));
      const later = (
        await driver.push([1, 2].map((h) => newJob({ queue: q, delayMs: h * 3_600_000 })))
      ).map((r) => r.id);

      // Delayed jobs behind a window's worth of pending ones: a range of the index, found at once.
      expect(await driver.listPage(q, { state: 'delayed', limit: 5 })).toMatchObject({
        jobs: later.map((id) => ({ id })),
        next: null,
      });

      for (const query of [
        { tag: 'rare' },
        { name: 'conformance.other' },
        { tag: 'rare', state: 'pending' as const },
      ]) {
        const pages = await everyPage(driver, q, { ...query, limit: 2 });
        const paged = pages.flatMap((p) => p.jobs.map((j) => j.id));
        expect(paged).toEqual(tagged);
        // The window bound: the first page stops after the window, with only the match it held.
        expect(pages[0]!.jobs.map((j) => j.id)).toEqual([tagged[0]]);
        expect(pages[0]!.next).not.toBeNull();
        expect(pages.length).toBeGreaterThan(1);
      }
      // A common filter fills its pages, never past `limit`.
      const page = await driver.listPage(q, { tag: 'common', limit: 5 });
      expect(page.jobs.map((j) => j.id)).toEqual(ids.slice(0, 5));
      expect(page.next).not.toBeNull();
    });

    it('stores ctx.progress from a running handler, at most about 4 writes a second', async () => {
      const h = harness();
      const q = queue();
      let finish!: () => void;
      const finished = new Promise<void>((resolve) => (finish = resolve));
      const job = defineJob({
        name: 'conformance.progress',
        async handle(_p: unknown, ctx) {
          for (let i = 1; i <= 50; i++) await ctx.progress(i * 2);
          await ctx.progress({ step: 'last', done: 100 });
          await finished;
        },
      });
      const { driver, writes } = recordingProgress(h.driver);
      const id = await pushOne(h.driver, { queue: q, name: 'conformance.progress' });
      const w = startWorker(h, [job], { queues: [q], stopWhenEmpty: true, leaseMs: 5_000 }, driver);
      // The held value is written when the throttle's interval ends, without a new report.
      const row = await waitFor(
        async () => {
          const found = await h.driver.find(id);
          return found && (found.progress as { step?: string })?.step === 'last' ? found : false;
        },
        { timeoutMs: 3_000, message: 'the last progress value was not stored' },
      );
      expect((row as { progress: unknown }).progress).toEqual({ step: 'last', done: 100 });
      expect(writes.length).toBeLessThanOrEqual(3);
      expect(writes[0]).toEqual({ value: '2', stored: true });
      finish();
      expect(await exitOf(w)).toBe(EXIT.OK);
    });

    it('writes the last progress value before the job settles, and refuses what is not progress', async () => {
      const h = harness();
      const q = queue();
      const job = defineJob({
        name: 'conformance.progress',
        async handle(_p: unknown, ctx) {
          for (let i = 1; i <= 10; i++) void ctx.progress(i);
        },
      });
      const wrong = defineJob({
        name: 'conformance.wrong-progress',
        tries: 1,
        async handle(_p: unknown, ctx) {
          await ctx.progress(['a'] as never);
        },
      });
      const { driver, writes } = recordingProgress(h.driver);
      await pushOne(h.driver, { queue: q, name: 'conformance.progress' });
      await pushOne(h.driver, { queue: q, name: 'conformance.wrong-progress', maxTries: 1 });
      const w = startWorker(h, [job, wrong], { queues: [q], stopWhenEmpty: true }, driver);
      expect(await exitOf(w)).toBe(EXIT.OK);
      expect(w.of('job:processed')).toHaveLength(1);
      // The first report at once, the tenth flushed while the claim still held the job.
      expect(writes).toEqual([
        { value: '1', stored: true },
        { value: '10', stored: true },
      ]);
      const [failed] = w.of('job:failed');
      expect((failed as { error: Error }).error.message).toBe(
        'ctx.progress takes a finite number (such as 42) or a plain object (such as { done: 3, of: 10 }), got an array.',
      );
    });
  });
}
