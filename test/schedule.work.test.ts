import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnCli, type CliProcess } from './helpers/cli.js';
import { waitFor } from './helpers/wait.js';
import { createScheduleApp, events, type ScheduleApp } from './schedule.fixture.js';

describe('run schedule:work', () => {
  let app: ScheduleApp;
  beforeAll(async () => {
    app = await createScheduleApp('sqlite');
    const migrated = await app.run(['migrate']);
    expect(migrated.code, migrated.stderr).toBe(0);
  });
  afterAll(() => app?.cleanup());

  const work = (entries: string, now: string, args: string[] = []): CliProcess =>
    spawnCli(['schedule:work', '--json', ...args], {
      cwd: app.cwd,
      env: { ...app.env, ENTRIES: entries, JOBSMITH_NOW: now },
      timeoutMs: 60_000,
    });
  const seen = (p: CliProcess, event: string) => events(p.stdout).filter((e) => e.event === event);

  it('sleeps to the next slot, fires it, and exits 0 on SIGTERM', async () => {
    // 1.5 s before a minute boundary: the 00:01:00 slot is the next one.
    const proc = work('tick', '2030-01-01T00:00:58.500Z');
    await waitFor(() => seen(proc, 'entry:finished').length === 1, {
      timeoutMs: 20_000,
      message: `no run: ${proc.output}`,
    });
    expect(seen(proc, 'scheduler:waiting')[0]).toMatchObject({
      at: '2030-01-01T00:01:00.000Z',
      entries: ['tick'],
    });
    expect(seen(proc, 'entry:finished')[0]).toMatchObject({
      entry: 'tick',
      slot: '2030-01-01T00:01:00.000Z',
      ok: true,
    });
    const result = await proc.stop('SIGTERM', 10_000);
    expect(result.code).toBe(0);
    expect(result.signal).toBeNull();
    expect(result.stderr).toBe('');
    // The run is not awaited by the loop, so its events and the next wait come in any order.
    const names = events(result.stdout).map((e) => e.event);
    expect(names[0]).toBe('scheduler:started');
    expect(names.slice(-2)).toEqual(['scheduler:stopping', 'scheduler:stopped']);
    expect(names.filter((n) => n.startsWith('entry:'))).toEqual([
      'entry:started',
      'entry:finished',
    ]);
    expect(seen(proc, 'scheduler:waiting').map((e) => e.at)).toEqual([
      '2030-01-01T00:01:00.000Z',
      '2030-01-01T00:02:00.000Z',
    ]);
    // Slots before it started (00:00:00) are not fired: only the one it waited for.
    const slots = await app.rows('schedule_slots', { entry: 'tick' });
    expect(slots.map((s) => Number(s.slot_at))).toEqual([Date.parse('2030-01-01T00:01:00Z')]);
  });

  it('stops at once on SIGINT while it waits for a far slot', async () => {
    const proc = work('hourly', '2030-01-01T00:05:00Z');
    await waitFor(() => seen(proc, 'scheduler:waiting').length === 1, { timeoutMs: 20_000 });
    const result = await proc.stop('SIGINT', 10_000);
    expect(result.code).toBe(0);
    expect(seen(proc, 'scheduler:waiting')[0]).toMatchObject({ at: '2030-01-01T01:00:00.000Z' });
    expect(events(result.stdout).at(-1)).toMatchObject({ event: 'scheduler:stopped' });
  });

  it('passes SIGTERM to a running command, waits for it, and exits 0', async () => {
    const proc = work('hold', '2030-01-01T00:09:59.500Z');
    await waitFor(() => seen(proc, 'entry:started').length === 1, {
      timeoutMs: 20_000,
      message: `no start: ${proc.output}`,
    });
    // The command (a worker) is up once it prints its start line on our stderr.
    await proc.waitForOutput(/Worker \S+ processing sched-hold/, 20_000);
    const result = await proc.stop('SIGTERM', 20_000);
    expect(result.code).toBe(0);
    // The worker drained and exited 0, so the run counts as a success.
    expect(seen(proc, 'entry:finished')[0]).toMatchObject({
      entry: 'hold',
      ok: true,
      detail: 'exit 0',
    });
    expect(result.stderr).toContain('Worker stopped (signal)');
    const [slot] = await app.rows('schedule_slots', { entry: 'hold' });
    expect(slot).toMatchObject({ outcome: 'ok' });
    expect(await app.rows('schedule_leases', { entry: 'hold' })).toEqual([]);
  });

  it('stays up with an empty schedule (so supervisor does not restart it in a loop)', async () => {
    const proc = work('', '2030-01-01T00:00:00Z');
    await waitFor(() => seen(proc, 'scheduler:started').length === 1, { timeoutMs: 20_000 });
    expect(seen(proc, 'scheduler:started')[0]).toMatchObject({ entries: 0 });
    const result = await proc.stop('SIGTERM', 10_000);
    expect(result.code).toBe(0);
  });

  it('rejects a bad --grace, naming the flag; exit 2', async () => {
    const result = await app.run(['schedule:work', '--grace', 'soon']);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      'Error: --grace must be a duration, seconds (90) or a number with a unit: 500ms, 30s, 5m, 2h, 1d; got "soon".\n',
    );
  });
});
