/** ISO 8601: a date, or a date and time with an optional zone (`2026-01-31T09:00:00Z`). */
const ISO_DATE = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/i;

/**
 * Parses an ISO 8601 date/time, as --at and --since take it; undefined for anything else.
 * Stricter than `new Date(text)`, which reads `5` as the year 2001.
 */
export function parseIsoDate(text: string): Date | undefined {
  const trimmed = text.trim();
  if (!ISO_DATE.test(trimmed)) return undefined;
  const date = new Date(trimmed);
  return Number.isNaN(date.getTime()) ? undefined : date;
}
