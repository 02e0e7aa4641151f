import { readFileSync, realpathSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCliInHost } from './helpers/cli-host.js';
import { appEnv } from './helpers/env.js';
import { tempDir, type TempDir } from './helpers/services.js';

let dir: TempDir;
let file: string;
beforeEach(() => {
  dir = tempDir('jobsmith-schedule-config-');
  file = path.join(realpathSync(dir.path), 'jobsmith.config.ts');
});
afterEach(() => dir.cleanup());

/** Writes a config whose schedule is `schedule` (TypeScript source), and loads it. */
async function load(schedule: string, extra = '', command = 'schedule:list') {
  writeFileSync(
    file,
    `import { defineConfig, defineJob, everyMinute, dailyAt } from 'jobsmith';
import { z } from 'zod';
const tick = defineJob({ name: 'tick.job', schema: z.object({ n: z.number() }), async handle() {} });
const stray = defineJob({ name: 'stray.job', async handle() {} });
export default defineConfig({ jobs: [tick], ${extra} schedule: ${schedule} });
`,
  );
  return runCliInHost([command], { cwd: path.dirname(file), env: appEnv() });
}

const HINT = 'Fix the schedule in the config file; `run schedule:list` shows it once it loads.\n';
const invalid = (problem: string) => `Error: Invalid schedule in ${file}: ${problem}\n${HINT}`;
const CRON_HELP =
  'use 5 fields (minute hour day-of-month month day-of-week, e.g. "*/5 * * * *"), 6 fields with seconds first, or @hourly, @daily, @weekly, @monthly, @yearly';

describe('the schedule in jobsmith.config.ts', () => {
  it('accepts 5 and 6 fields, nicknames, helpers and time zones', async () => {
    const result = await load(`[
      { name: 'a', cron: '*/5 * * * *', job: tick, payload: { n: 1 } },
      { name: 'b', cron: '30 */10 * * * *', job: 'tick.job', payload: { n: 2 } },
      { name: 'c', cron: '@daily', command: 'queue:prune-failed --hours 168', timezone: 'Asia/Tokyo' },
      { name: 'd', cron: dailyAt('03:00'), command: ['queue:monitor', 'default', '--max', '10'] },
    ]`);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(
      /^c +@daily +Asia\/Tokyo +run queue:prune-failed --hours 168 +\S+ 00:00:00 \+09:00 /m,
    );
  });

  it('names the entry, the bad cron and what a cron may be', async () => {
    const result = await load(
      `[{ name: 'nightly', cron: '61 * * * *', job: tick, payload: { n: 1 } }]`,
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      invalid(
        `entry "nightly": cron "61 * * * *" is not valid (Invalid value for minute: 61); ${CRON_HELP}.`,
      ),
    );
  });

  it('says to call a helper that was passed uncalled', async () => {
    const result = await load(
      `[{ name: 'often', cron: everyMinute, job: tick, payload: { n: 1 } }]`,
    );
    expect(result.stderr).toBe(
      invalid('entry "often": cron is the function everyMinute; call it: cron: everyMinute().'),
    );
  });

  it('rejects a cron that never matches a date', async () => {
    const result = await load(
      `[{ name: 'never', cron: '0 0 30 2 *', job: tick, payload: { n: 1 } }]`,
    );
    expect(result.stderr).toBe(
      invalid(
        'entry "never": cron "0 0 30 2 *" never matches a date (such as 30 February), so it would never run.',
      ),
    );
  });

  it('rejects an unknown time zone, in an entry and as the default', async () => {
    const entry = await load(
      `[{ name: 'tz', cron: '@hourly', job: tick, payload: { n: 1 }, timezone: 'Mars/Olympus' }]`,
    );
    expect(entry.stderr).toBe(
      invalid(
        'entry "tz": timezone "Mars/Olympus" is not a time zone; use an IANA name such as "UTC" or "Europe/Paris".',
      ),
    );
    const fallback = await load('[]', `scheduleTimezone: 'Paris',`);
    expect(fallback.stderr).toBe(
      invalid(
        'scheduleTimezone "Paris" is not a time zone; use an IANA name such as "UTC" or "Europe/Paris".',
      ),
    );
  });

  it('rejects a job that is not registered, or a payload its schema refuses', async () => {
    const byName = await load(`[{ name: 'x', cron: '@hourly', job: 'nope.job' }]`);
    expect(byName.stderr).toBe(
      invalid(`entry "x": job "nope.job" is not in the config's jobs (registered: tick.job).`),
    );
    const unlisted = await load(`[{ name: 'x', cron: '@hourly', job: stray }]`);
    expect(unlisted.stderr).toBe(
      invalid(
        `entry "x": job "stray.job" is not in the config's jobs list, so no worker could run it; add it to jobs: [...].`,
      ),
    );
    const payload = await load(
      `[{ name: 'x', cron: '@hourly', job: tick, payload: { n: 'one' } }]`,
    );
    expect(payload.stderr).toBe(
      invalid('entry "x": Invalid payload for job tick.job: n: Expected number, received string.'),
    );
  });

  it('rejects an unknown command with a suggestion, and scheduler commands', async () => {
    const typo = await load(
      `[{ name: 'prune', cron: '@daily', command: 'queue:prune-faild --hours 1' }]`,
    );
    expect(typo.stderr).toBe(
      invalid(
        'entry "prune": command "queue:prune-faild" is not a run command; did you mean "queue:prune-failed"? Run `run --help` to list them.',
      ),
    );
    const nested = await load(`[{ name: 'loop', cron: '@daily', command: 'schedule:run' }]`);
    expect(nested.stderr).toBe(
      invalid(
        'entry "loop": command "schedule:run" cannot be scheduled: it would start a scheduler inside the scheduler.',
      ),
    );
  });

  it('rejects duplicate names, both job and command, and a bad overlap lease', async () => {
    const twice = await load(`[
      { name: 'same', cron: '@hourly', job: tick, payload: { n: 1 } },
      { name: 'same', cron: '@daily', job: tick, payload: { n: 2 } },
    ]`);
    expect(twice.stderr).toBe(
      invalid('entry "same": two entries have this name; entry names must be unique.'),
    );
    const both = await load(
      `[{ name: 'both', cron: '@hourly', job: tick, command: 'queue:size' }]`,
    );
    expect(both.stderr).toBe(
      invalid(
        'entry "both": give either `job` (a job to dispatch) or `command` (a run command), exactly one.',
      ),
    );
    const lease = await load(
      `[{ name: 'l', cron: '@hourly', job: tick, payload: { n: 1 }, withoutOverlapping: { lease: '10ms' } }]`,
    );
    expect(lease.stderr).toBe(
      invalid(
        'entry "l": withoutOverlapping.lease "10ms" is not valid; use seconds (60) or a duration of at least 1s: seconds (90) or a number with a unit: 500ms, 30s, 5m, 2h, 1d.',
      ),
    );
  });

  it('rejects what the dispatch would refuse: a queue, a priority, a Date payload, a 90d lease', async () => {
    const cases: Array<[string, string]> = [
      [
        `[{ name: 'q', cron: '@hourly', job: tick, payload: { n: 1 }, queue: 'bad queue' }]`,
        'entry "q": queue "bad queue" is not a queue name; use letters, digits and . _ - (at most 190 characters).',
      ],
      [
        `[{ name: 'p', cron: '@hourly', job: tick, payload: { n: 1 }, priority: 2000000 }]`,
        'entry "p": priority must be a whole number from -1048575 to 1048575, got 2000000.',
      ],
      [
        `[{ name: 'd', cron: '@hourly', job: 'when.job', payload: { at: new Date(0) } }]`,
        'entry "d": Invalid payload for job when.job once stored as JSON: at: Expected date, received string (at is a Date, which JSON stores as an ISO string). Fix: use z.coerce.date() for it in the schema, so the handler gets a Date back.',
      ],
      [
        `[{ name: 'm', cron: '@hourly', job: 'free.job', payload: { tags: new Set(['a']) } }]`,
        'entry "m": Payload for job free.job would change when stored as JSON: tags is a Set, which JSON stores as {}; pass [...set] instead.',
      ],
      [
        `[{ name: 'l', cron: '@hourly', job: tick, payload: { n: 1 }, withoutOverlapping: { lease: '90d' } }]`,
        'entry "l": withoutOverlapping.lease "90d" is too long; use a duration at most 2147483647ms (about 24.8 days), the longest a timer can wait.',
      ],
    ];
    const extraJobs =
      "jobs: [tick, defineJob({ name: 'when.job', schema: z.object({ at: z.date() }), async handle() {} }), defineJob({ name: 'free.job', async handle() {} })],";
    // One at a time: every load writes the same config file.
    for (const [schedule, problem] of cases) {
      const result = await load(schedule, extraJobs);
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(invalid(problem));
    }
  });

  it('reads an entry without a zone in UTC, whatever the host TZ, unless scheduleTimezone says', async () => {
    writeFileSync(
      file,
      `import { defineConfig, defineJob } from 'jobsmith';
const tick = defineJob({ name: 'tick.job', async handle() {} });
export default defineConfig({ jobs: [tick], ${'${ZONE}'} schedule: [{ name: 'nine', cron: '0 9 * * *', job: tick }] });
`,
    );
    const list = async (zone: string, tz: string) => {
      writeFileSync(
        file,
        readFileSync(file, 'utf8').replace(
          /\{ jobs: \[tick\],.*? schedule/,
          `{ jobs: [tick], ${zone} schedule`,
        ),
      );
      const result = await runCliInHost(['schedule:list', '--json'], {
        cwd: path.dirname(file),
        env: appEnv({ TZ: tz, JOBSMITH_NOW: '2029-12-31T23:00:00Z' }),
      });
      expect(result.stderr).toBe('');
      const [entry] = JSON.parse(result.stdout);
      return [entry.timezone, entry.next[0]];
    };
    expect(await list('', 'Europe/Paris')).toEqual(['UTC', '2030-01-01T09:00:00.000Z']);
    expect(await list('', 'America/New_York')).toEqual(['UTC', '2030-01-01T09:00:00.000Z']);
    expect(await list(`scheduleTimezone: 'Asia/Tokyo',`, 'Europe/Paris')).toEqual([
      'Asia/Tokyo',
      '2030-01-01T00:00:00.000Z',
    ]);
  });

  it('rejects a helper given a bad time when the config loads', async () => {
    const result = await load(
      `[{ name: 'late', cron: dailyAt('25:00'), job: tick, payload: { n: 1 } }]`,
    );
    expect(result.code).toBe(1);
    expect(result.stderr.split('\n')[0]).toBe(
      `Error: Invalid config in ${file}: dailyAt("25:00"): the time must be HH:MM on a 24-hour clock, from 00:00 to 23:59.`,
    );
  });

  it('is checked by every command that loads the config, not only the scheduler', async () => {
    const result = await load(`[{ name: 'bad', cron: 'soon', job: tick }]`, '', 'queue:work');
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /^Error: Invalid schedule in .*: entry "bad": cron "soon" is not valid/,
    );
  });
});
