import { ConfigError } from '../errors.js';

/*
 * Helpers that return cron expressions, for `cron:` in a schedule entry. Plain strings, so
 * `run schedule:list` shows exactly what runs. Times are read in the entry's time zone.
 */

export const everyMinute = () => '* * * * *';
export const everyTwoMinutes = () => '*/2 * * * *';
export const everyFiveMinutes = () => '*/5 * * * *';
export const everyTenMinutes = () => '*/10 * * * *';
export const everyFifteenMinutes = () => '*/15 * * * *';
export const everyThirtyMinutes = () => '0,30 * * * *';
export const hourly = () => '0 * * * *';
export const daily = () => '0 0 * * *';
/** Sundays at midnight. */
export const weekly = () => '0 0 * * 0';
/** The first of the month at midnight. */
export const monthly = () => '0 0 1 * *';
/** January 1st at midnight. */
export const yearly = () => '0 0 1 1 *';

/** Every hour at `minute` past. */
export function hourlyAt(minute: number): string {
  return `${whole('hourlyAt', minute, 0, 59, 'the minute')} * * * *`;
}

/** Every day at `time` (`'03:00'`, 24-hour clock). */
export function dailyAt(time: string): string {
  const [h, m] = hhmm('dailyAt', time);
  return `${m} ${h} * * *`;
}

/** Every day at two hours (`twiceDaily(1, 13)`), at `minute` past. */
export function twiceDaily(first: number, second: number, minute = 0): string {
  const a = whole('twiceDaily', first, 0, 23, 'the first hour');
  const b = whole('twiceDaily', second, 0, 23, 'the second hour');
  return `${whole('twiceDaily', minute, 0, 59, 'the minute')} ${a},${b} * * *`;
}

/** Monday to Friday at `time`. */
export function weekdaysAt(time: string): string {
  const [h, m] = hhmm('weekdaysAt', time);
  return `${m} ${h} * * 1-5`;
}

const DAYS = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];

/** Once a week: `weeklyOn('monday', '08:00')` or `weeklyOn(1, '08:00')` (0 is Sunday). */
export function weeklyOn(day: number | string, time = '00:00'): string {
  const index = typeof day === 'string' ? DAYS.indexOf(day.toLowerCase()) : day;
  if (!Number.isInteger(index) || index < 0 || index > 6) {
    throw new ConfigError(
      `weeklyOn(${JSON.stringify(day)}): the day must be 0 (Sunday) to 6 (Saturday) or a day name such as 'monday'.`,
    );
  }
  const [h, m] = hhmm('weeklyOn', time);
  return `${m} ${h} * * ${index}`;
}

/** Once a month: `monthlyOn(4, '15:00')`, day 1 to 31 (a month without that day is skipped). */
export function monthlyOn(day: number, time = '00:00'): string {
  const d = whole('monthlyOn', day, 1, 31, 'the day');
  const [h, m] = hhmm('monthlyOn', time);
  return `${m} ${h} ${d} * *`;
}

function whole(helper: string, value: number, min: number, max: number, what: string): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(
      `${helper}(): ${what} must be a whole number from ${min} to ${max}, got ${JSON.stringify(value)}.`,
    );
  }
  return value;
}

function hhmm(helper: string, time: string): [number, number] {
  const match = /^(\d{1,2}):(\d{2})$/.exec(typeof time === 'string' ? time.trim() : '');
  const h = Number(match?.[1]);
  const m = Number(match?.[2]);
  if (!match || h > 23 || m > 59) {
    throw new ConfigError(
      `${helper}(${JSON.stringify(time)}): the time must be HH:MM on a 24-hour clock, from 00:00 to 23:59.`,
    );
  }
  return [h, m];
}
