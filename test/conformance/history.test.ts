/**
 * Job history on every driver: finished jobs kept in job_history (SQL, whatever the backend) as
 * their retention says, with the handler's result; the attempts that did not end a job in
 * job_attempts; findFinished for queue:show; pruning of expired rows.
 */
import { describe, expect, it } from 'vitest';
import { defineJob } from '../../src/jobs/define.js';
import { Permanent } from '../../src/jobs/errors.js';
import { JobRegistry } from '../../src/jobs/registry.js';
import type { JobDefinition } from '../../src/jobs/types.js';
import type { QueueSettings } from '../../src/config/define.js';
import { startHistory, type RunningHistory } from '../../src/history/attach.js';
import { findFinished } from '../../src/history/find-finished.js';
import { pruneHistory } from '../../src/history/prune.js';
import { insertAttempts, insertHistory, type HistoryRow } from '../../src/history/store.js';
import { EXIT } from '../../src/worker/options.js';
import { drivers, type Harness } from './drivers.js';
import {
  claimWhenReady,
  exitOf,
  pushOne,
  startWorker,
  useHarness,
  type RunningWorker,
} from './support.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** A worker with history attached, as `run queue:work` attaches it. */
function workWithHistory(
  h: Harness,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  jobs: JobDefinition<any>[],
  queueSettings: Record<string, QueueSettings> = {},
  options: { stopWhenEmpty?: boolean } = { stopWhenEmpty: true },
): { w: RunningWorker; history: RunningHistory } {
  const w = startWorker(h, jobs, { sleepMs: 50, ...options });
  const history = startHistory(w.worker, {
    knex: h.knex,
    connection: h.driver.connection,
    registry: new JobRegistry(jobs),
    queueSettings,
    queues: ['default'],
    flushMs: 50,
    prune: false,
  });
  return { w, history };
}

async function historyRows(h: Harness) {
  return (await h.knex('job_history').orderBy('name')) as Array<Record<string, unknown>>;
}

for (const d of drivers) {
  describe.skipIf(!d.available())(`${d.name}: job history`, () => {
    const harness = useHarness(d);

    it('keeps a success, with its result, only for a job whose retention keeps successes', async () => {
      const h = harness();
      const keep = defineJob({
        name: 'keep.job',
        retain: { succeeded: '1h' },
        handle: () => ({ sum: 3, items: ['a'] }),
      });
      const drop = defineJob({ name: 'drop.job', handle: () => 'not kept' });
      const keptId = await pushOne(h.driver, { name: 'keep.job', payload: '{"a":1}' });
      await pushOne(h.driver, { name: 'drop.job' });
      const { w, history } = workWithHistory(h, [keep, drop]);
      expect(await exitOf(w)).toBe(EXIT.OK);
      await history.close();

      expect(w.of('job:processed').map((e) => e.result)).toEqual(
        expect.arrayContaining([{ sum: 3, items: ['a'] }, 'not kept']),
      );
      const rows = await historyRows(h);
      expect(rows).toHaveLength(1);
      const row = rows[0]!;
      expect(row).toMatchObject({
        connection: h.driver.connection,
        id: keptId,
        queue: 'default',
        name: 'keep.job',
        status: 'succeeded',
        attempts: 1,
        payload: '{"a":1}',
        error: null,
      });
      expect(JSON.parse(String(row.result))).toEqual({ sum: 3, items: ['a'] });
      const finishedAt = Number(row.finished_at);
      expect(Math.abs(finishedAt - Date.now())).toBeLessThan(60_000);
      expect(Number(row.expires_at) - finishedAt).toBe(HOUR);
      expect(Number(row.started_at)).toBeLessThanOrEqual(finishedAt);
      // A success at the first try writes no attempt rows.
      expect(Number((await h.knex('job_attempts').count({ n: '*' }))[0]!.n)).toBe(0);
    });

    it("keeps failures for 7 days by default, and the queue's retention applies where the job sets none", async () => {
      const h = harness();
      const doomed = defineJob({
        name: 'doomed.job',
        handle: () => {
          throw new Permanent('account closed');
        },
      });
      const fine = defineJob({ name: 'fine.job', handle: () => 42 });
      await pushOne(h.driver, { name: 'doomed.job' });
      await pushOne(h.driver, { name: 'fine.job' });
      const { w, history } = workWithHistory(h, [doomed, fine], {
        default: { retain: { succeeded: '2h' } },
      });
      expect(await exitOf(w)).toBe(EXIT.OK);
      await history.close();
      const rows = await historyRows(h);
      expect(rows.map((r) => [r.name, r.status])).toEqual([
        ['doomed.job', 'failed'],
        ['fine.job', 'succeeded'],
      ]);
      const [failed, ok] = rows as [Record<string, unknown>, Record<string, unknown>];
      expect(String(failed.error)).toMatch(/^Permanent: account closed\n/);
      expect(failed.result).toBeNull();
      expect(Number(failed.expires_at) - Number(failed.finished_at)).toBe(7 * DAY);
      expect(JSON.parse(String(ok.result))).toBe(42);
      expect(Number(ok.expires_at) - Number(ok.finished_at)).toBe(2 * HOUR);
    });

    it('keeps a cancelled job for 7 days by default, with the cancel reason', async () => {
      const h = harness();
      const job = defineJob({ name: 'c.job', handle: () => undefined });
      // On a queue the worker does not serve: the test holds the job as the worker would.
      const id = await pushOne(h.driver, { name: 'c.job', queue: 'held' });
      const { w, history } = workWithHistory(h, [job], {}, { stopWhenEmpty: false });
      const claimed = await claimWhenReady(h.driver, { queue: 'held' });
      expect(claimed.id).toBe(id);
      // The cancel itself is queue:cancel's (another module): here the worker reports one.
      w.worker.emit('job:cancelled', { job: claimed, durationMs: 5, reason: 'Cancelled by ops' });
      await history.close();
      const rows = await historyRows(h);
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject({
        id,
        queue: 'held',
        status: 'cancelled',
        error: 'Cancelled by ops',
      });
      expect(Number(rows[0]!.expires_at) - Number(rows[0]!.finished_at)).toBe(7 * DAY);
    });

    it('writes a job_attempts row for each attempt that did not end a retried job, and findFinished shows the timeline', async () => {
      const h = harness();
      const flaky = defineJob({
        name: 'flaky.job',
        tries: 3,
        backoff: [0],
        retain: { succeeded: '1d' },
        handle: (_p: unknown, ctx) => {
          if (ctx.attempt < 3) throw new Error(`boom ${ctx.attempt}`);
          return { ok: true };
        },
      });
      const id = await pushOne(h.driver, { name: 'flaky.job', maxTries: 3 });
      const { w, history } = workWithHistory(h, [flaky]);
      expect(await exitOf(w)).toBe(EXIT.OK);
      await history.close();
      const attempts = await h.knex('job_attempts').orderBy('seq');
      expect(
        attempts.map((a: Record<string, unknown>) => [a.job_id, a.attempt, a.outcome, a.error]),
      ).toEqual([
        [id, 1, 'released', 'boom 1'],
        [id, 2, 'released', 'boom 2'],
      ]);
      const found = await findFinished(id, h.knex, { connection: h.driver.connection });
      expect(found).toMatchObject({
        source: 'history',
        id,
        connection: h.driver.connection,
        name: 'flaky.job',
        status: 'succeeded',
        attempts: 3,
        result: { ok: true },
        error: null,
      });
      expect(
        found!.timeline.map((t) => (t.event === 'attempt' ? [t.attempt, t.outcome] : [t.event])),
      ).toEqual([
        [1, 'released'],
        [2, 'released'],
        [3, 'succeeded'],
      ]);
    });

    it('keeps the last progress a job reported, by its last attempt or an earlier one', async () => {
      const h = harness();
      const retain = { succeeded: '1h' } as const;
      const steps = defineJob({
        name: 'steps.job',
        retain,
        handle: async (_p: unknown, ctx) => {
          await ctx.progress(10);
          await ctx.progress({ done: 2, of: 2 });
          return 'done';
        },
      });
      const early = defineJob({
        name: 'early.job',
        tries: 2,
        backoff: [0],
        retain,
        handle: async (_p: unknown, ctx) => {
          if (ctx.attempt > 1) return;
          await ctx.progress(50);
          throw new Error('first try fails');
        },
      });
      const quiet = defineJob({ name: 'quiet.job', retain, handle: () => undefined });
      const stopped = defineJob({
        name: 'stopped.job',
        handle: async (_p: unknown, ctx) => {
          await ctx.progress({ step: 'upload' });
          throw new Permanent('disk full');
        },
      });
      const ids = new Map<string, string>();
      for (const name of ['steps.job', 'early.job', 'quiet.job', 'stopped.job'])
        ids.set(name, await pushOne(h.driver, { name, maxTries: 2 }));
      const { w, history } = workWithHistory(h, [steps, early, quiet, stopped]);
      expect(await exitOf(w)).toBe(EXIT.OK);
      await history.close();

      const rows = await historyRows(h);
      expect(rows.map((r) => [r.name, r.status, r.attempts, r.progress])).toEqual([
        ['early.job', 'succeeded', 2, '50'],
        ['quiet.job', 'succeeded', 1, null],
        ['steps.job', 'succeeded', 1, '{"done":2,"of":2}'],
        ['stopped.job', 'failed', 1, '{"step":"upload"}'],
      ]);
      const found = await findFinished(ids.get('stopped.job')!, h.knex, {
        connection: h.driver.connection,
      });
      expect(found).toMatchObject({ source: 'history', progress: { step: 'upload' } });
    });

    it('stores a result JSON cannot hold as a marker, and the worker goes on', async () => {
      const h = harness();
      const odd = defineJob({
        name: 'odd.job',
        retain: { succeeded: '1h' },
        handle: () => ({ big: 10n }),
      });
      await pushOne(h.driver, { name: 'odd.job' });
      await pushOne(h.driver, { name: 'odd.job' });
      const { w, history } = workWithHistory(h, [odd]);
      expect(await exitOf(w)).toBe(EXIT.OK);
      await history.close();
      const rows = await historyRows(h);
      expect(rows).toHaveLength(2);
      for (const row of rows) {
        expect(row.status).toBe('succeeded');
        expect(JSON.parse(String(row.result))).toEqual({
          $unserializable: expect.stringMatching(/^The result is not JSON: .*BigInt/),
        });
      }
    });

    it('finds a failed job in failed_jobs when history keeps no failures', async () => {
      const h = harness();
      const doomed = defineJob({
        name: 'doomed.job',
        retain: { failed: false },
        handle: () => {
          throw new Permanent('gone');
        },
      });
      const id = await pushOne(h.driver, {
        name: 'doomed.job',
        payload: '{"n":7}',
        tags: ['post:7'],
      });
      const { w, history } = workWithHistory(h, [doomed]);
      expect(await exitOf(w)).toBe(EXIT.OK);
      await history.close();
      expect(await historyRows(h)).toEqual([]);
      const found = await findFinished(id, h.knex, { connection: h.driver.connection });
      expect(found).toMatchObject({
        source: 'failed_jobs',
        id,
        status: 'failed',
        name: 'doomed.job',
        payload: '{"n":7}',
        result: null,
        tags: ['post:7'],
      });
      expect(found!.error).toMatch(/^Permanent: gone\n/);
      expect(found!.timeline.at(-1)).toMatchObject({ outcome: 'failed', error: 'Permanent: gone' });
      expect(await findFinished('no-such-job', h.knex)).toBeNull();
    });

    it('prunes expired rows only, within a budget, and every row with all', async () => {
      const h = harness();
      const now = Date.now();
      const row = (id: string, expiresAt: number, status: HistoryRow['status']): HistoryRow => ({
        connection: h.driver.connection,
        id,
        queue: 'default',
        name: 'p.job',
        status,
        attempts: 1,
        payload: '{}',
        result: null,
        error: null,
        progress: null,
        tags: null,
        dispatched_at: null,
        started_at: now - 10,
        finished_at: now - 5,
        runtime_ms: 5,
        expires_at: expiresAt,
      });
      const expired = Array.from({ length: 450 }, (_, i) => row(`old-${i}`, now - 1000, 'failed'));
      await insertHistory(h.knex, [...expired, row('fresh', now + HOUR, 'succeeded')]);
      await insertAttempts(h.knex, [
        {
          connection: h.driver.connection,
          job_id: 'old-0',
          attempt: 1,
          started_at: now - 20,
          ended_at: now - 15,
          outcome: 'released',
          error: 'x',
          expires_at: now - 1000,
        },
      ]);
      expect(await pruneHistory(h.knex, { budget: 300, now })).toEqual({
        history: 300,
        attempts: 0,
      });
      expect(await pruneHistory(h.knex, { now })).toEqual({ history: 150, attempts: 1 });
      const left = await h.knex('job_history').select('id');
      expect(left.map((r: { id: string }) => r.id)).toEqual(['fresh']);
      expect(await pruneHistory(h.knex, { all: true, status: 'failed' })).toEqual({
        history: 0,
        attempts: 0,
      });
      expect(await pruneHistory(h.knex, { all: true })).toEqual({ history: 1, attempts: 0 });
    });
  });
}
