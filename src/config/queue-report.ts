/**
 * The effective policy of every known queue, each value with where it came from, for
 * `run about`. The command line is left out: its flags belong to one worker, not to the queue.
 */
import type { Backoff, JobDefinition } from '../jobs/types.js';
import { formatDurationInput } from '../util/duration.js';
import type { JobsmithConfig } from './define.js';
import {
  isQueueVariable,
  queueVariable,
  sourcedPolicy,
  type PolicyKey,
  type QueueSettingsInput,
} from './queue-policies.js';

/** Where a value came from, highest precedence first (a worker's flag beats them all). */
export type PolicySource = 'env' | 'queue' | 'job' | 'default';

export interface ReportedValue {
  /**
   * Null when the queue's jobs disagree (each keeps its own; `from` lists them), and for
   * `globalConcurrency` when nothing sets one (no cap; printed `none`).
   */
  value: number | string | Backoff | null;
  source: PolicySource;
  /** `QUEUE_MAIL_TRIES`, `queues.mail.tries`, the job names, or `built-in`. */
  from: string;
}

export interface QueueReport {
  name: string;
  tries: ReportedValue;
  backoff: ReportedValue;
  timeout: ReportedValue;
  concurrency: ReportedValue;
  /** null (no cap) unless the config or QUEUE_<NAME>_GLOBAL_CONCURRENCY sets one. */
  globalConcurrency: ReportedValue;
}

/** defineJob's defaults, a worker's concurrency when nothing sets it, and no global cap. */
const BUILT_IN = {
  tries: 3,
  backoff: [10, 30, 60],
  timeout: 60,
  concurrency: 1,
  globalConcurrency: null,
};

type Field = Exclude<keyof QueueReport, 'name'>;
const KEY_OF: Record<Field, PolicyKey> = {
  tries: 'tries',
  backoff: 'backoff',
  timeout: 'timeoutMs',
  concurrency: 'concurrency',
  globalConcurrency: 'globalConcurrency',
};

/**
 * The queues named in the config's `queues` or by a job definition, in that order, each with
 * its effective tries, backoff, timeout (`30s`), concurrency and global concurrency.
 */
export function reportQueues(
  config: JobsmithConfig,
  raw: Record<string, string | undefined>,
): QueueReport[] {
  const jobs = config.jobs ?? [];
  const names = [...new Set([...Object.keys(config.queues ?? {}), ...jobs.map((j) => j.queue)])];
  return names.map((name) => {
    const own = sourcedPolicy(name, config.queues?.[name] as QueueSettingsInput, raw);
    const ofQueue = jobs.filter((j) => j.queue === name);
    const report = { name } as QueueReport;
    for (const field of Object.keys(KEY_OF) as Field[]) {
      const set = own[KEY_OF[field]];
      report[field] = set
        ? { value: shown(field, set.value as number | Backoff), source: set.source, from: set.from }
        : fromJobs(field, ofQueue);
    }
    return report;
  });
}

/** The `QUEUE_<NAME>_*` variables set for none of these queues: a typo, or a queue to come. */
export function unmatchedQueueVariables(
  queues: string[],
  raw: Record<string, string | undefined>,
): string[] {
  const known = new Set(
    queues.flatMap((q) =>
      (['tries', 'backoff', 'timeoutMs', 'concurrency', 'globalConcurrency'] as const).map((k) =>
        queueVariable(q, k),
      ),
    ),
  );
  return Object.keys(raw)
    .filter((name) => isQueueVariable(name) && raw[name] !== '' && !known.has(name))
    .sort();
}

function fromJobs(field: Field, jobs: JobDefinition[]): ReportedValue {
  // Concurrency is a worker's or a queue's, never a job's.
  if (jobs.length === 0 || field === 'concurrency' || field === 'globalConcurrency')
    return {
      value: BUILT_IN[field] === null ? null : shown(field, BUILT_IN[field], 'seconds'),
      source: 'default',
      from: 'built-in',
    };
  const values = jobs.map((j) => ({ name: j.name, text: JSON.stringify(j[field]) }));
  const same = values.every((v) => v.text === values[0]!.text);
  if (same)
    return {
      value: shown(field, jobs[0]![field] as number | Backoff, 'seconds'),
      source: 'job',
      from: jobs.map((j) => j.name).join(', '),
    };
  return {
    value: null,
    source: 'job',
    from: jobs.map((j) => `${j.name}=${text(shown(field, j[field], 'seconds'))}`).join(', '),
  };
}

/** Timeouts as the duration syntax writes them (`30s`); policies hold ms, jobs seconds. */
function shown(
  field: Field,
  value: number | Backoff,
  unit: 'ms' | 'seconds' = 'ms',
): ReportedValue['value'] {
  if (field !== 'timeout') return value;
  return formatDurationInput((value as number) * (unit === 'seconds' ? 1000 : 1));
}

/** One value as `run about` prints it: `10,30,60`, `30s`, `per job`, `none` (no global cap). */
export function text(value: ReportedValue['value'], field?: Field): string {
  if (value === null) return field === 'globalConcurrency' ? 'none' : 'per job';
  if (Array.isArray(value)) return value.join(',');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}
