import { hostname } from 'node:os';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { waitFor } from './helpers/wait.js';
import {
  createScheduleApp,
  describeBackend,
  events,
  type Backend,
  type ScheduleApp,
} from './schedule.fixture.js';

/** A minute of 2030, 5 seconds in: `minute(3)` is 2030-01-01T00:03:05Z. */
const minute = (n: number) => new Date(Date.UTC(2030, 0, 1, 0, n, 5)).toISOString();
const slotOf = (n: number) => new Date(Date.UTC(2030, 0, 1, 0, n, 0)).toISOString();

export function scheduleRunSpecs(backend: Backend): void {
  describeBackend(backend, 'run schedule:run', () => {
    let app: ScheduleApp;
    beforeAll(async () => {
      app = await createScheduleApp(backend);
      // Migrate once up front, so the tests below start from the same schema.
      const migrated = await app.run(['migrate']);
      expect(migrated.code, migrated.stderr).toBe(0);
    });
    afterAll(() => app?.cleanup());

    it('fires a due entry exactly once when two processes run it at the same minute', async () => {
      const env = { ENTRIES: 'tick', JOBSMITH_NOW: minute(1) };
      const [a, b] = await Promise.all([
        app.run(['schedule:run', '--json'], env),
        app.run(['schedule:run', '--json'], env),
      ]);
      expect([a.code, b.code, a.stderr, b.stderr]).toEqual([0, 0, '', '']);
      const all = [...events(a.stdout), ...events(b.stdout)];
      const finished = all.filter((e) => e.event === 'entry:finished');
      expect(finished).toHaveLength(1);
      expect(finished[0]).toMatchObject({ entry: 'tick', slot: slotOf(1), ok: true });
      expect(finished[0]!.detail).toMatch(/^dispatched tick\.job #\d+$/);
      expect(all.filter((e) => e.event === 'entry:skipped')).toEqual([
        expect.objectContaining({
          entry: 'tick',
          slot: slotOf(1),
          reason: 'taken',
          detail: 'another scheduler fired this slot',
        }),
      ]);
      const jobs = await app.rows('jobs', { name: 'tick.job' });
      expect(jobs.map((j) => j.payload)).toEqual(['{"n":1}']);
      const slots = await app.rows('schedule_slots', { entry: 'tick' });
      expect(slots).toHaveLength(1);
      expect(slots[0]).toMatchObject({ scope: '*', outcome: 'ok' });
    });

    it('fires a zone-less entry once when hosts in different time zones run it', async () => {
      // 0 9 * * * with no zone anywhere: before, each host read it in its own TZ, so Paris fired
      // at 08:00Z and New York at 14:00Z. Now both read it in UTC and fire the 09:00Z slot once.
      const at = (h: number) => new Date(Date.UTC(2030, 0, 2, h, 0, 5)).toISOString();
      const host = (tz: string, h: number) =>
        app.run(['schedule:run', '--json'], {
          ENTRIES: 'nine',
          ZONELESS: '1',
          TZ: tz,
          JOBSMITH_NOW: at(h),
        });
      // 09:00 on each host's own clock, and 09:00 UTC on both at once.
      const results = await Promise.all([
        host('Europe/Paris', 8),
        host('America/New_York', 14),
        host('Europe/Paris', 9),
        host('America/New_York', 9),
      ]);
      for (const r of results) expect([r.code, r.stderr]).toEqual([0, '']);
      const slots = await app.rows('schedule_slots', { entry: 'nine' });
      expect(slots.map((s) => new Date(Number(s.slot_at)).toISOString())).toEqual([
        new Date(Date.UTC(2030, 0, 2, 9)).toISOString(),
      ]);
      const jobs = await app.rows('jobs', { name: 'tick.job', payload: '{"n":9}' });
      expect(jobs).toHaveLength(1);
    }, 120_000);

    it('fires the next minute again, and says when nothing is due', async () => {
      const next = await app.run(['schedule:run'], { ENTRIES: 'tick', JOBSMITH_NOW: minute(2) });
      expect(next.code, next.stderr).toBe(0);
      expect(next.stdout).toMatch(/^2030-01-01 00:02:00 tick RUNNING job tick\.job\n/);
      expect(next.stdout).toMatch(
        /\n2030-01-01 00:02:00 tick DONE \S+ dispatched tick\.job #\d+\n$/,
      );
      const hourly = await app.run(['schedule:run'], {
        ENTRIES: 'hourly',
        JOBSMITH_NOW: minute(3),
      });
      expect(hourly.code, hourly.stderr).toBe(0);
      expect(hourly.stdout).toBe('No schedule entries are due.\n');
    });

    it('runs on the database clock (no JOBSMITH_NOW) without a storage error, run after run', async () => {
      // The clock's offset is taken at a round trip's midpoint: half the runs used to prune with
      // a time ending in .5, which PostgreSQL refused for a bigint (exit 1 in most minutes).
      for (let i = 0; i < 3; i++) {
        const result = await app.run(['schedule:run'], { ENTRIES: 'hourly' });
        expect([result.code, result.stderr]).toEqual([0, '']);
      }
    }, 120_000);

    it('fires an onOneServer: false entry once per host, keyed by the host name', async () => {
      const env = { ENTRIES: 'per-host', JOBSMITH_NOW: minute(4) };
      const [a, b] = await Promise.all([
        app.run(['schedule:run', '--json'], env),
        app.run(['schedule:run', '--json'], env),
      ]);
      expect([a.code, b.code]).toEqual([0, 0]);
      const finished = [...events(a.stdout), ...events(b.stdout)].filter(
        (e) => e.event === 'entry:finished',
      );
      expect(finished).toHaveLength(1);
      const slots = await app.rows('schedule_slots', { entry: 'per-host' });
      expect(slots.map((s) => s.scope)).toEqual([hostname()]);
    });

    it('exits 1 and names the entry when its command fails; the slot is recorded as failed', async () => {
      const result = await app.run(['schedule:run'], {
        ENTRIES: 'broken',
        JOBSMITH_NOW: minute(5),
      });
      expect(result.code).toBe(1);
      expect(result.stdout).toMatch(/ broken FAIL \S+ exit 2\n$/);
      expect(result.stderr).toContain('Error: Scheduled run failed: broken.\n');
      const [slot] = await app.rows('schedule_slots', { entry: 'broken' });
      expect(slot).toMatchObject({ outcome: 'failed', detail: 'exit 2' });
    });

    it('skips a slot while the entry runs, and runs it again once a killed run’s lease expires', async () => {
      const env = { ENTRIES: 'hold' };
      // A run that holds the overlap lease for as long as it lives.
      const first = app.spawnGroup(['schedule:run', '--json'], {
        ...env,
        JOBSMITH_NOW: minute(10),
      });
      await waitFor(() => events(first.stdout).some((e) => e.event === 'entry:started'), {
        timeoutMs: 20_000,
        message: `the first run did not start: ${first.stderr}`,
      });
      const [lease] = await app.rows('schedule_leases', { entry: 'hold' });
      expect(lease!.owner).toBe(`${hostname()}:${first.child.pid}`);
      const firstCommand = await app.commandPid(first);

      // While it runs (and renews its lease), the next slot is skipped.
      const overlapped = await app.run(['schedule:run', '--json'], {
        ...env,
        JOBSMITH_NOW: minute(11),
      });
      expect(overlapped.code, overlapped.stderr).toBe(0);
      const [skipped] = events(overlapped.stdout);
      expect(skipped).toMatchObject({
        event: 'entry:skipped',
        entry: 'hold',
        reason: 'overlapping',
      });
      expect(skipped!.detail).toMatch(
        new RegExp(
          `^still running: ${hostname()}:${first.child.pid} holds its overlap lease until `,
        ),
      );
      const [recorded] = await app.rows('schedule_slots', {
        entry: 'hold',
        slot_at: Date.parse(slotOf(11)),
      });
      expect(recorded).toMatchObject({ outcome: 'skipped' });

      // The run dies (kill -9): nobody renews or releases the lease. A later slot runs once the
      // lease (2s) has expired, not a day later. (Its command is stopped too, so that only the
      // lease stands in the way.)
      first.killGroup('SIGKILL');
      process.kill(firstCommand, 'SIGKILL');
      await first.exited;
      let n = 12;
      let started: ReturnType<ScheduleApp['spawnGroup']> | undefined;
      await waitFor(
        async () => {
          const run = app.spawnGroup(['schedule:run', '--json'], {
            ...env,
            JOBSMITH_NOW: minute(n++),
          });
          let closed = false;
          void run.exited.then(() => (closed = true));
          const outcome = await waitFor(
            () =>
              events(run.stdout).some((e) => e.event === 'entry:started')
                ? 'started'
                : closed && 'closed',
            { timeoutMs: 20_000 },
          );
          if (outcome === 'started') started = run;
          else expect(events(run.stdout)[0]).toMatchObject({ reason: 'overlapping' });
          return outcome === 'started';
        },
        { timeoutMs: 30_000, intervalMs: 200 },
      );
      const [taken] = await app.rows('schedule_leases', { entry: 'hold' });
      expect(taken!.owner).toBe(`${hostname()}:${started!.child.pid}`);
      // A SIGTERM to the scheduler reaches its command once: the worker drains and exits 0.
      await app.commandPid(started!);
      process.kill(started!.child.pid!, 'SIGTERM');
      expect(await started!.exited).toBe(0);
      expect(events(started!.stdout).at(-1)).toMatchObject({
        event: 'entry:finished',
        ok: true,
        detail: 'exit 0',
      });
    });
  });
}
