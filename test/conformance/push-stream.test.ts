import { describe, expect, it } from 'vitest';
import { PartialPushError } from '../../src/queue/bulk/partial-push-error.js';
import type { NewJob, PushResult } from '../../src/queue/driver.js';
import { drivers } from './drivers.js';
import { newJob, useHarness } from './support.js';

/*
 * QueueDriver.pushStream: a bulk dispatch stored batch by batch. SQL drivers store all or none
 * in one transaction; Redis stores each batch in one MULTI and says how many were stored when
 * one fails (issue 11, item 6).
 */

/** `count` jobs on `queue`, payload {"n": i} from `from`, in batches of `size`. */
function* jobs(count: number, size: number, overrides: Partial<NewJob> = {}, from = 0) {
  for (let i = 0; i < count; i += size) {
    yield Array.from({ length: Math.min(size, count - i) }, (_, k) =>
      newJob({ queue: 'bulk', payload: JSON.stringify({ n: from + i + k }), ...overrides }),
    );
  }
}

async function size(driver: { sizes(q: string[]): Promise<Array<{ pending: number }>> }) {
  return (await driver.sizes(['bulk']))[0]!.pending;
}

for (const d of drivers) {
  describe.skipIf(!d.available())(`${d.name}: pushStream`, () => {
    const harness = useHarness(d);

    it('stores every batch in order and hands over each batch’s results as it goes', async () => {
      const { driver } = harness();
      const handed: PushResult[][] = [];
      await driver.pushStream!(
        async function* () {
          yield* jobs(2_500, 1_000);
        },
        (results) => void handed.push(results),
      );
      expect(handed.map((r) => r.length)).toEqual([1_000, 1_000, 500]);
      const ids = handed.flat().map((r) => r.id);
      expect(new Set(ids).size).toBe(2_500);
      expect(await size(driver)).toBe(2_500);
      const page = await driver.list('bulk', undefined, 0, 3);
      expect(page.map((r) => [r.id, r.payload])).toEqual([
        [ids[0], '{"n":0}'],
        [ids[1], '{"n":1}'],
        [ids[2], '{"n":2}'],
      ]);
    });

    it('deduplicates unique jobs across batches, to the job that holds the key', async () => {
      const { driver } = harness();
      const all: PushResult[] = [];
      await driver.pushStream!(
        async function* () {
          for (const batch of jobs(3_000, 700)) {
            yield batch.map((job) => ({
              ...job,
              unique: { key: `k${(JSON.parse(job.payload).n as number) % 1_000}`, forMs: 60_000 },
            }));
          }
        },
        (results) => void all.push(...results),
      );
      expect(all.filter((r) => !r.deduplicated)).toHaveLength(1_000);
      for (let i = 1_000; i < 3_000; i++) {
        expect(all[i]).toEqual({ id: all[i % 1_000]!.id, deduplicated: true });
      }
      expect(await size(driver)).toBe(1_000);
    });

    if (d.name === 'redis') {
      it('keeps the batches stored before a failure and says how many (one MULTI a batch)', async () => {
        const { driver } = harness();
        const error = await driver.pushStream!(
          async function* () {
            yield* jobs(2_000, 1_000);
            throw new Error('the source broke');
          },
          () => {},
        ).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(PartialPushError);
        expect((error as PartialPushError).stored).toBe(2_000);
        expect(await size(driver)).toBe(2_000);
      });

      it('stores none of a batch Redis refuses, and keeps the ones before it', async () => {
        const { driver } = harness();
        const error = await driver.pushStream!(
          async function* () {
            yield* jobs(2_000, 1_000);
            const [bad] = jobs(1_000, 1_000, {}, 2_000);
            bad![500] = { ...bad![500]!, priority: 2 ** 40 };
            yield bad!;
          },
          () => {},
        ).catch((e: unknown) => e);
        expect((error as PartialPushError).stored).toBe(2_000);
        expect(await size(driver)).toBe(2_000);
      });

      it('checks a job it cannot store without writing anything', async () => {
        const { driver } = harness();
        expect(() => driver.check!(newJob({ priority: 2 ** 40 }))).toThrow(
          /cannot be stored on the redis connection/,
        );
        expect(() => driver.check!(newJob())).not.toThrow();
      });
    } else {
      it('stores none when the stream fails midway (one transaction)', async () => {
        const { driver } = harness();
        const handed: number[] = [];
        const error = await driver.pushStream!(
          async function* () {
            yield* jobs(12_000, 6_000);
            throw new Error('the source broke');
          },
          (results) => void handed.push(results.length),
        ).catch((e: unknown) => e);
        expect((error as Error).message).toBe('the source broke');
        expect(handed).toEqual([6_000, 6_000]);
        expect(await size(driver)).toBe(0);
        // The storage is usable afterwards: the transaction was rolled back, not left open.
        expect(await driver.push([newJob({ queue: 'bulk' })])).toHaveLength(1);
      });
    }
  });
}
