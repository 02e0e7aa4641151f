import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createScheduleApp, type ScheduleApp } from './schedule.fixture.js';

describe('run schedule:list', () => {
  let app: ScheduleApp;
  beforeAll(async () => {
    app = await createScheduleApp('sqlite');
  });
  afterAll(() => app?.cleanup());

  const env = { ENTRIES: 'tick,nightly,seconds', JOBSMITH_NOW: '2030-01-01T00:00:05Z' };

  it('prints each entry with its next run times as JSON', async () => {
    const result = await app.run(['schedule:list', '--json', '--next', '3'], env);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual([
      {
        name: 'tick',
        cron: '* * * * *',
        timezone: 'UTC',
        description: null,
        action: {
          type: 'job',
          job: 'tick.job',
          payload: { n: 1 },
          queue: 'default',
          priority: 0,
          connection: null,
        },
        withoutOverlapping: false,
        onOneServer: true,
        next: ['2030-01-01T00:01:00.000Z', '2030-01-01T00:02:00.000Z', '2030-01-01T00:03:00.000Z'],
      },
      {
        name: 'nightly',
        cron: '0 3 * * *',
        timezone: 'Europe/Paris',
        description: 'forget old failures',
        action: {
          type: 'command',
          command: 'queue:prune-failed --hours 168',
          args: ['queue:prune-failed', '--hours', '168'],
        },
        withoutOverlapping: { leaseMs: 60_000 },
        onOneServer: true,
        // 03:00 in Paris is 02:00 UTC in winter.
        next: ['2030-01-01T02:00:00.000Z', '2030-01-02T02:00:00.000Z', '2030-01-03T02:00:00.000Z'],
      },
      {
        name: 'seconds',
        cron: '*/20 * * * * *',
        timezone: 'UTC',
        description: null,
        action: {
          type: 'job',
          job: 'tick.job',
          payload: { n: 4 },
          queue: 'fast',
          priority: 0,
          connection: null,
        },
        withoutOverlapping: false,
        onOneServer: true,
        next: ['2030-01-01T00:00:20.000Z', '2030-01-01T00:00:40.000Z', '2030-01-01T00:01:00.000Z'],
      },
    ]);
  });

  it('prints a table with times in each entry’s time zone, and needs no database', async () => {
    const result = await app.run(['schedule:list'], env);
    expect(result.code).toBe(0);
    expect(result.stdout.split('\n').map((l) => l.replace(/ {2,}/g, ' | '))).toEqual([
      'Name | Cron | Time zone | Action | Next run | Options',
      'tick | * * * * * | UTC | job tick.job | 2030-01-01 00:01:00 +00:00 | one server',
      'nightly | 0 3 * * * | Europe/Paris | run queue:prune-failed --hours 168 | 2030-01-01 03:00:00 +01:00 | no overlap (lease 1m), one server',
      'seconds | */20 * * * * * | UTC | job tick.job on fast | 2030-01-01 00:00:20 +00:00 | one server',
      '',
    ]);
    expect(existsSync(path.join(app.cwd, 'storage'))).toBe(false);
  });

  it('says so when the config has no schedule', async () => {
    const result = await app.run(['schedule:list'], { ENTRIES: '' });
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(
      `No schedule entries in ${path.join(app.cwd, 'jobsmith.config.ts')}.\n`,
    );
    const json = await app.run(['schedule:list', '--json'], { ENTRIES: '' });
    expect(json.stdout).toBe('[]\n');
  });

  it('rejects --next 0 and --next 101, naming the flag; exit 2', async () => {
    for (const value of ['0', '101', 'x']) {
      const result = await app.run(['schedule:list', '--next', value], env);
      expect(result.code).toBe(2);
      expect(result.stderr).toBe(
        `Error: --next must be a whole number from 1 to 100, got "${value}".\n`,
      );
    }
  });

  it('rejects a JOBSMITH_NOW that is not a date', async () => {
    const result = await app.run(['schedule:list'], { JOBSMITH_NOW: 'yesterday' });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      'Error: JOBSMITH_NOW="yesterday" is not valid; expected an ISO 8601 date/time such as 2026-01-31T09:00:00Z.\n' +
        'JOBSMITH_NOW is a testing aid that sets the scheduler clock; unset it in production.\n',
    );
  });
});
