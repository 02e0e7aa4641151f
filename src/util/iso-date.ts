/** ISO 8601: a date, or a date and time with an optional zone (`2026-01-31T09:00:00Z`). */
const ISO_DATE = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/i;

/** The date and time fields at the start of an ISO 8601 text. */
const FIELDS = /^\s*(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?)?/i;

/**
 * Whether the date and time written at the start of `text` exist on the calendar: JavaScript's
 * Date reads 2027-02-30 as March 2 and 2026-04-31 as May 1, so a typo'd day would move a job by
 * days without a word. True for text that does not start with an ISO date (other checks judge
 * it). Hours run 00 to 23 (24:00 is not taken), minutes and seconds 00 to 59.
 */
export function isCalendarDate(text: string): boolean {
  const m = FIELDS.exec(text);
  if (!m) return true;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (month < 1 || month > 12) return false;
  // Day 0 of the next month is the last day of this one.
  const last = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (day < 1 || day > last) return false;
  if (m[4] !== undefined && (Number(m[4]) > 23 || Number(m[5]) > 59)) return false;
  return m[6] === undefined || Number(m[6]) <= 59;
}

/**
 * Parses an ISO 8601 date/time, as --at and --since take it; undefined for anything else,
 * including a date the calendar does not have (2027-02-30). Stricter than `new Date(text)`,
 * which reads `5` as the year 2001.
 */
export function parseIsoDate(text: string): Date | undefined {
  const trimmed = text.trim();
  if (!ISO_DATE.test(trimmed) || !isCalendarDate(trimmed)) return undefined;
  const date = new Date(trimmed);
  return Number.isNaN(date.getTime()) ? undefined : date;
}
