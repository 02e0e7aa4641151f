import { describe, expect, it } from 'vitest';
import { drivers } from './drivers.js';
import { pushOne, useHarness } from './support.js';

for (const d of drivers) {
  describe.skipIf(!d.available())(
    `${d.name}: a job put back goes behind the jobs ready before it`,
    () => {
      const harness = useHarness(d);

      it('two jobs retried at once (backoff 0) and an ordinary one: the ordinary one is claimed third', async () => {
        const { driver } = harness();
        const a = await pushOne(driver, { maxTries: 1000 });
        const b = await pushOne(driver, { maxTries: 1000 });
        const c = await pushOne(driver);
        const order: string[] = [];
        for (let i = 0; i < 3; i++) {
          const [job] = await driver.claim(['default'], 1, 60_000);
          order.push(job!.id);
          if (job!.id !== c) {
            await driver.release({ id: job!.id, token: job!.token }, { delayMs: 0, error: 'boom' });
          }
        }
        expect(order).toEqual([a, b, c]);
      });

      it('a job put back again and again takes turns with the others: none waits more than a round', async () => {
        const { driver } = harness();
        const ids = [
          await pushOne(driver, { maxTries: 1000 }),
          await pushOne(driver, { maxTries: 1000 }),
          await pushOne(driver, { maxTries: 1000 }),
        ];
        const order: string[] = [];
        for (let i = 0; i < 9; i++) {
          const [job] = await driver.claim(['default'], 1, 60_000);
          order.push(job!.id);
          await driver.release({ id: job!.id, token: job!.token }, { delayMs: 0, error: 'boom' });
        }
        expect(order).toEqual([...ids, ...ids, ...ids]);
      });

      it('priority still comes first: a higher-priority job put back runs before the lower ones', async () => {
        const { driver } = harness();
        const low = await pushOne(driver);
        const high = await pushOne(driver, { priority: 5, maxTries: 10 });
        const [first] = await driver.claim(['default'], 1, 60_000);
        expect(first!.id).toBe(high);
        await driver.release({ id: high, token: first!.token }, { delayMs: 0 });
        const [second] = await driver.claim(['default'], 1, 60_000);
        expect(second!.id).toBe(high);
        const [third] = await driver.claim(['default'], 1, 60_000);
        expect(third!.id).toBe(low);
      });
    },
  );
}
