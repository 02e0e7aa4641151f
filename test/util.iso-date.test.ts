/**
 * Dates a user types (--at, --since, a dispatch's `at`, a Telegram message's send time,
 * JOBSMITH_NOW) must exist on the calendar: JavaScript's Date moves 2027-02-30 to March 2, which
 * scheduled a message two days late without a word (found by a new user's trial).
 */
import { describe, expect, it } from 'vitest';
import { defineJob } from '../src/jobs/define.js';
import { prepareJob } from '../src/jobs/prepare.js';
import { parseNow } from '../src/schedule/clock.js';
import { parseWhen } from '../src/telegram/when.js';
import { isCalendarDate, parseIsoDate } from '../src/util/iso-date.js';
import { createApp } from './helpers/app.js';

const NOW = Date.parse('2026-12-02T00:00:00Z');
const IMPOSSIBLE = [
  '2027-02-30T09:00:00Z',
  '2027-02-29',
  '2026-04-31T00:00Z',
  '2026-00-10',
  '2026-12-01T24:00:00Z',
  '2026-12-01T09:60',
  '2026-12-01T09:00:60+01:00',
];

describe('isCalendarDate and parseIsoDate', () => {
  it('refuses days, months, hours, minutes and seconds the calendar does not have', () => {
    for (const text of IMPOSSIBLE) {
      expect(isCalendarDate(text), text).toBe(false);
      expect(parseIsoDate(text), text).toBeUndefined();
    }
  });

  it('takes real dates, a leap day of a leap year included', () => {
    expect(parseIsoDate('2028-02-29')?.toISOString()).toBe('2028-02-29T00:00:00.000Z');
    expect(parseIsoDate('2026-12-31T23:59:59Z')?.toISOString()).toBe('2026-12-31T23:59:59.000Z');
    expect(parseIsoDate('2026-06-30T10:00+02:00')?.toISOString()).toBe('2026-06-30T08:00:00.000Z');
  });
});

describe('every parser of a typed date', () => {
  it('a Telegram send time, a dispatch at and JOBSMITH_NOW refuse 2027-02-30', () => {
    expect(parseWhen('2027-02-30T09:00:00Z', NOW)).toBe(
      'the time 2027-02-30T09:00:00Z is not a valid date.',
    );
    const job = defineJob({ name: 'later', async handle() {} });
    expect(() => prepareJob(job, {}, { at: '2027-02-30T09:00:00Z' })).toThrow(
      'Cannot dispatch later: "at" "2027-02-30T09:00:00Z" is not valid',
    );
    expect(prepareJob(job, {}, { at: '2028-02-29T09:00:00Z' }).runAt).toBe(
      Date.parse('2028-02-29T09:00:00Z'),
    );
    expect(() => parseNow('2027-02-30T09:00:00Z')).toThrow('JOBSMITH_NOW="2027-02-30T09:00:00Z"');
  });

  it('run telegram:schedule --at and run queue:dispatch --at exit 2 naming the flag', async () => {
    const app = await createApp(
      'sqlite',
      `import { defineConfig, defineJob } from 'jobsmith';
export const later = defineJob({ name: 'later', async handle() {} });
export default defineConfig({ jobs: [later], telegram: {} });
`,
    );
    try {
      const token = '123456789:AAbbccddeeffgghhiijjkkllmmnnooppqqr';
      const tg = await app.run(
        ['telegram:schedule', '--chat', '42', '--text', 'x', '--at', '2027-02-30T09:00:00Z'],
        { env: { TELEGRAM_BOT_TOKEN: token } },
      );
      expect(tg.code, tg.stderr).toBe(2);
      expect(tg.stderr).toContain('--at: the time 2027-02-30T09:00:00Z is not a valid date.');
      const dispatch = await app.run([
        'queue:dispatch',
        'later',
        '--payload',
        '{}',
        '--at',
        '2027-02-30T09:00:00Z',
      ]);
      expect(dispatch.code).toBe(2);
      expect(dispatch.stderr).toContain(
        '--at "2027-02-30T09:00:00Z" is not a date on the calendar (no such day',
      );
    } finally {
      await app.cleanup();
    }
  });
});
