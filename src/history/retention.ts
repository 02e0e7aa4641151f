/**
 * Retention of finished jobs in job_history: how long a job that succeeded, failed or was
 * cancelled is kept, per queue (`queues: { mail: { retain } }`) and per job
 * (`defineJob({ retain })`), the job's keys winning over its queue's, key by key. Defaults:
 * succeeded not kept (history costs nothing for the jobs that make up nearly all the traffic),
 * failed and cancelled 7 days (failed_jobs keeps failed jobs as before, whatever this says).
 */
import { MAX_WAIT_MS } from '../jobs/limits.js';
import { parseDuration } from '../util/duration.js';

/** A retention as written: seconds (`3600`), a duration (`'1h'`, `'7d'`), or `false` (not kept). */
export type RetainDuration = number | string | false;

/** What `retain` takes, on a queue's settings and on defineJob. */
export interface RetainOptions {
  /** How long a job that succeeded is kept. @defaultValue false (not kept) */
  succeeded?: RetainDuration;
  /** How long a job that failed is kept (failed_jobs keeps it as well). @defaultValue '7d' */
  failed?: RetainDuration;
  /** How long a cancelled job is kept. @defaultValue '7d' */
  cancelled?: RetainDuration;
}

export type FinalStatus = 'succeeded' | 'failed' | 'cancelled';

export const FINAL_STATUSES: readonly FinalStatus[] = ['succeeded', 'failed', 'cancelled'];

/** A retention resolved: milliseconds per status, 0 for "not kept". */
export type Retention = Readonly<Record<FinalStatus, number>>;

const DAY_MS = 86_400_000;

export const DEFAULT_RETENTION: Retention = Object.freeze({
  succeeded: 0,
  failed: 7 * DAY_MS,
  cancelled: 7 * DAY_MS,
});

const RETAIN_HELP =
  "seconds (3600), a duration such as '1h' or '7d' (units ms, s, m, h, d), or false to keep none";

/**
 * What is wrong with a `retain` value, or undefined. `where` names it as the user wrote it
 * (`queues.mail.retain`, `retain`); the problem names the key and what it takes.
 */
export function retainProblem(value: unknown, where: string): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return `${where} must be an object such as { succeeded: '1h', failed: '7d' }`;
  const unknown = Object.keys(value).filter((k) => !(FINAL_STATUSES as string[]).includes(k));
  if (unknown.length > 0)
    return `${where} has unknown key ${unknown.map((k) => `"${k}"`).join(', ')}; the keys are ${FINAL_STATUSES.join(', ')}`;
  for (const status of FINAL_STATUSES) {
    const given = (value as Record<string, unknown>)[status];
    if (given === undefined) continue;
    if (retainMs(given) === undefined)
      return `${where}.${status} must be ${RETAIN_HELP}; got ${shown(given)}`;
  }
  return undefined;
}

/** A checked retention value in ms (0: not kept), or undefined when it is not one. */
function retainMs(value: unknown): number | undefined {
  if (value === false) return 0;
  const ms =
    typeof value === 'number'
      ? Math.round(value * 1000)
      : typeof value === 'string'
        ? parseDuration(value)
        : undefined;
  if (ms === undefined || !Number.isFinite(ms) || ms < 0 || ms > MAX_WAIT_MS) return undefined;
  return ms;
}

function shown(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

/**
 * The retention of a job: the defaults, then its queue's `retain`, then its own, key by key.
 * Both have been checked when the config loaded.
 */
export function resolveRetention(
  queue: RetainOptions | undefined,
  job: RetainOptions | undefined,
): Retention {
  const result: Record<FinalStatus, number> = { ...DEFAULT_RETENTION };
  for (const source of [queue, job]) {
    if (!source) continue;
    for (const status of FINAL_STATUSES) {
      const ms = source[status] === undefined ? undefined : retainMs(source[status]);
      if (ms !== undefined) result[status] = ms;
    }
  }
  return result;
}

/**
 * Retention per job name and queue, as the worker asks for it once per finished job: resolved
 * once per pair and kept.
 */
export class RetentionTable {
  private readonly cache = new Map<string, Retention>();

  constructor(
    /** A job's own `retain`, by name (undefined: the job sets none, or is unknown). */
    private readonly jobRetain: (name: string) => RetainOptions | undefined,
    /** A queue's `retain` from the config's `queues`. */
    private readonly queueRetain: (queue: string) => RetainOptions | undefined,
  ) {}

  get(name: string, queue: string): Retention {
    const key = `${queue}\u0000${name}`;
    let found = this.cache.get(key);
    if (!found) {
      found = resolveRetention(this.queueRetain(queue), this.jobRetain(name));
      this.cache.set(key, found);
    }
    return found;
  }

  /**
   * Whether any job of these names, on any of these queues, keeps its successes: a worker whose
   * jobs keep none does not listen for successes at all.
   */
  keepsSucceeded(names: readonly string[], queues: readonly string[]): boolean {
    return queues.some((q) => names.some((n) => this.get(n, q).succeeded > 0));
  }
}
