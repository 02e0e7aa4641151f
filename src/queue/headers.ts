/*
 * Job headers: string key/values a job carries from its dispatch to each of its runs, beside the
 * payload (NewJob.headers, ClaimedJob.headers). A dispatch hook writes them (the trace context:
 * `traceparent`, `tracestate`) and the worker hands them back with the claimed job; the core
 * never reads them. Stored as JSON text in `jobs.headers` (migrations/0021_job_headers.ts) and in
 * the Redis job's `opts`.
 */

/** Headers as a job carries them. */
export type JobHeaders = Readonly<Record<string, string>>;

/** At most this many headers per job: a trace context needs two. */
export const MAX_HEADERS = 16;
/** A header's value is at most this many characters (a W3C `tracestate` is at most 512). */
export const HEADER_VALUE_MAX = 1024;
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/**
 * Headers as stored (JSON text), or null for none. Only what fits is kept: at most MAX_HEADERS
 * names of letters, digits, `_`, `.` and `-` (up to 64), each with a string of at most
 * HEADER_VALUE_MAX characters. A propagator's oversized entry (a large `baggage`) is dropped,
 * never the job.
 */
export function storedHeaders(headers: JobHeaders | undefined): string | null {
  if (!headers) return null;
  const kept: Record<string, string> = {};
  let count = 0;
  for (const [name, value] of Object.entries(headers)) {
    if (count === MAX_HEADERS) break;
    if (!NAME.test(name) || typeof value !== 'string' || value.length > HEADER_VALUE_MAX) continue;
    kept[name] = value;
    count++;
  }
  return count === 0 ? null : JSON.stringify(kept);
}

/** Stored headers (JSON text, or null) back as an object; undefined for none or unreadable text. */
export function readHeaders(text: unknown): JobHeaders | undefined {
  if (typeof text !== 'string' || text === '') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const headers: Record<string, string> = {};
  let count = 0;
  for (const [name, v] of Object.entries(value as Record<string, unknown>)) {
    if (typeof v !== 'string') continue;
    headers[name] = v;
    count++;
  }
  return count === 0 ? undefined : headers;
}
