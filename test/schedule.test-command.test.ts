import { hostname } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from './helpers/wait.js';
import { createScheduleApp, events, type ScheduleApp } from './schedule.fixture.js';

describe('run schedule:test NAME', () => {
  let app: ScheduleApp;
  beforeAll(async () => {
    app = await createScheduleApp('sqlite');
  });
  afterAll(() => app?.cleanup());

  const env = { ENTRIES: 'tick,broken,hold', JOBSMITH_NOW: '2030-06-01T12:00:30Z' };

  it('runs the entry now, outside its schedule, and records no slot', async () => {
    const result = await app.run(['schedule:test', 'tick'], env);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /^2030-06-01 12:00:30 tick RUNNING job tick\.job\n2030-06-01 12:00:30 tick DONE \S+ dispatched tick\.job #1\n$/,
    );
    expect((await app.rows('jobs')).map((j) => [j.name, j.payload])).toEqual([
      ['tick.job', '{"n":1}'],
    ]);
    expect(await app.rows('schedule_slots')).toEqual([]);
  });

  it('exits 1 with the reason when the entry fails', async () => {
    const result = await app.run(['schedule:test', 'broken', '--json'], env);
    expect(result.code).toBe(1);
    expect(events(result.stdout).at(-1)).toMatchObject({
      event: 'entry:finished',
      ok: false,
      detail: 'exit 2',
    });
    expect(result.stderr).toContain('Error: broken failed: exit 2.\n');
  });

  it('suggests the nearest entry for an unknown name; exit 2', async () => {
    const result = await app.run(['schedule:test', 'tik'], env);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      'Error: Unknown schedule entry "tik". Did you mean "tick"?\nEntries: tick, broken, hold (run schedule:list).\n',
    );
  });

  it('does not start an entry that is still running elsewhere (withoutOverlapping); exit 1', async () => {
    const running = app.spawnGroup(['schedule:test', 'hold', '--json'], env);
    await waitFor(() => events(running.stdout).some((e) => e.event === 'entry:started'), {
      timeoutMs: 20_000,
      message: `hold did not start: ${running.stderr}`,
    });
    const result = await app.run(['schedule:test', 'hold'], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      new RegExp(
        `^Error: hold was not run: still running: ${hostname()}:${running.child.pid} holds its overlap lease until \\S+\\.\\n` +
          'Wait for the running one to finish; a crashed run frees it when its lease ends.\\n$',
      ),
    );
    // SIGTERM reaches the worker it started (once that is up), which drains; the run ends cleanly.
    await waitFor(() => /Worker \S+ processing sched-hold/.test(running.stderr), {
      timeoutMs: 20_000,
    });
    process.kill(running.child.pid!, 'SIGTERM');
    expect(await running.exited).toBe(0);
    expect(await app.rows('schedule_leases')).toEqual([]);
  });
});
