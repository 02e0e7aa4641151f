/**
 * Job headers (src/queue/headers.ts): what a dispatch hook adds to a job (the trace context)
 * comes back with every claim of it, on every driver, and a job without any claims as before.
 */
import { describe, expect, it } from 'vitest';
import { HEADER_VALUE_MAX, MAX_HEADERS } from '../../src/queue/headers.js';
import { drivers } from './drivers.js';
import { claimWhenReady, newJob, useHarness } from './support.js';

const TRACE = {
  traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
  tracestate: 'congo=t61rcWkgMzE',
};

for (const d of drivers) {
  describe.skipIf(!d.available())(`${d.name}: job headers`, () => {
    const harness = useHarness(d);

    it('hands a job its headers on every claim, and a job without headers none', async () => {
      const { driver } = harness();
      const [withHeaders, plain] = await driver.push([
        newJob({ headers: TRACE }),
        newJob({ payload: '{"n":2}' }),
      ]);
      const claimed = await driver.claim(['default'], 10, 5_000);
      const byId = new Map(claimed.map((j) => [j.id, j]));
      expect(byId.get(withHeaders!.id)?.headers).toEqual(TRACE);
      expect(byId.get(plain!.id)?.headers).toBeUndefined();

      // A retry is the same job: its next claim carries them still.
      const first = byId.get(withHeaders!.id)!;
      expect(await driver.release(first, { delayMs: 0, error: 'again' })).toBe(true);
      const again = await claimWhenReady(driver);
      expect(again.id).toBe(first.id);
      expect(again.attempts).toBe(2);
      expect(again.headers).toEqual(TRACE);
    });

    it('keeps what fits and drops the rest, never the job', async () => {
      const { driver } = harness();
      const many = Object.fromEntries(
        Array.from({ length: MAX_HEADERS + 4 }, (_, i) => [`h${i}`, String(i)]),
      );
      await driver.push([
        newJob({
          headers: {
            traceparent: TRACE.traceparent,
            'bad name': 'x',
            baggage: 'b'.repeat(HEADER_VALUE_MAX + 1),
          },
        }),
        newJob({ payload: '{"n":2}', headers: many }),
        newJob({ payload: '{"n":3}', headers: { 'bad name': 'only' } }),
      ]);
      const claimed = await driver.claim(['default'], 10, 5_000);
      expect(claimed.map((j) => j.headers)).toEqual([
        { traceparent: TRACE.traceparent },
        Object.fromEntries(Object.entries(many).slice(0, MAX_HEADERS)),
        undefined,
      ]);
    });

    it('carries headers through a bulk push', async () => {
      const { driver } = harness();
      if (!driver.pushStream) return;
      const ids: string[] = [];
      await driver.pushStream(
        async function* (size) {
          expect(size).toBeGreaterThan(0);
          yield [newJob({ headers: TRACE }), newJob({ payload: '{"n":2}', headers: TRACE })];
        },
        (results) => void ids.push(...results.map((r) => r.id)),
      );
      expect(ids).toHaveLength(2);
      const claimed = await driver.claim(['default'], 10, 5_000);
      expect(claimed.map((j) => j.headers)).toEqual([TRACE, TRACE]);
    });
  });
}
