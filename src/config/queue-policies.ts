/**
 * Per-queue policies: the tries, backoff, timeout and concurrency a queue's jobs get, from the
 * config's `queues` and from `QUEUE_<NAME>_TRIES|BACKOFF|TIMEOUT|CONCURRENCY`, so an operator
 * can change them without a deploy. Precedence, highest first: a `run queue:work` flag, the
 * environment, the config's `queues`, the job definition, the built-in default. The worker
 * applies them when a job runs (executor.ts), not when it is dispatched: a changed variable
 * takes effect at the next worker start, for jobs already waiting too.
 */
import { BACKOFF_TEXT_HELP, checkBackoff, parseBackoffText } from '../jobs/backoff.js';
import {
  isTries,
  MAX_TIMER_HELP,
  MAX_TIMER_MS,
  queueNameProblem,
  TRIES_HELP,
} from '../jobs/limits.js';
import type { Backoff } from '../jobs/types.js';
import { DURATION_HELP, parseDuration } from '../util/duration.js';
import { retainProblem, type RetainOptions } from '../history/retention.js';

/** A queue's own settings, as the worker applies them. */
export interface QueuePolicy {
  tries?: number;
  backoff?: Backoff;
  /** Milliseconds. */
  timeoutMs?: number;
  concurrency?: number;
  /** Jobs of the queue running at once across every worker (enforced at claim). */
  globalConcurrency?: number;
}

export type PolicyKey = keyof QueuePolicy;

/** The highest --concurrency; a queue's concurrency has the same range. */
export const MAX_CONCURRENCY = 1000;
export const CONCURRENCY_HELP = `a whole number from 1 to ${MAX_CONCURRENCY}`;

/** The highest globalConcurrency: jobs of one queue running at once across every worker. */
export const MAX_GLOBAL_CONCURRENCY = 100_000;
export const GLOBAL_CONCURRENCY_HELP = `a whole number from 1 to ${MAX_GLOBAL_CONCURRENCY.toLocaleString('en-US')}`;

/** The variable suffix of each setting. */
const SUFFIX: Record<PolicyKey, string> = {
  tries: 'TRIES',
  backoff: 'BACKOFF',
  timeoutMs: 'TIMEOUT',
  concurrency: 'CONCURRENCY',
  globalConcurrency: 'GLOBAL_CONCURRENCY',
};

/** The config field of each setting (`queues.mail.timeout`). */
export const CONFIG_FIELD: Record<PolicyKey, string> = {
  tries: 'tries',
  backoff: 'backoff',
  timeoutMs: 'timeout',
  concurrency: 'concurrency',
  globalConcurrency: 'globalConcurrency',
};

/**
 * `QUEUE_MAIL_GLOBAL_CONCURRENCY` is the global concurrency of `mail` (the shortest name wins),
 * never the concurrency of a queue named `mail_global`.
 */
const POLICY_VAR = /^QUEUE_([A-Z0-9_]+?)_(GLOBAL_CONCURRENCY|TRIES|BACKOFF|TIMEOUT|CONCURRENCY)$/;

/**
 * The variable that sets `key` for `queue`: the name upper-cased, every character other than a
 * letter or digit as `_` (`mail.high` → `QUEUE_MAIL_HIGH_TRIES`).
 */
export function queueVariable(queue: string, key: PolicyKey): string {
  return `QUEUE_${queue.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_${SUFFIX[key]}`;
}

/** Whether `name` is a `QUEUE_<NAME>_TRIES|BACKOFF|TIMEOUT|CONCURRENCY|GLOBAL_CONCURRENCY` variable. */
export function isQueueVariable(name: string): boolean {
  return POLICY_VAR.test(name);
}

type Parsed = { value: QueuePolicy[PolicyKey] } | { problem: string };

/** Reads one variable's text; `problem` says what is allowed. */
function parseVariable(suffix: string, text: string): Parsed {
  if (suffix === 'TRIES' || suffix === 'CONCURRENCY' || suffix === 'GLOBAL_CONCURRENCY') {
    const n = /^\s*\d+\s*$/.test(text) ? Number(text) : NaN;
    if (suffix === 'TRIES') return isTries(n) ? { value: n } : { problem: TRIES_HELP };
    if (suffix === 'GLOBAL_CONCURRENCY')
      return isGlobalConcurrency(n) ? { value: n } : { problem: GLOBAL_CONCURRENCY_HELP };
    return Number.isInteger(n) && n >= 1 && n <= MAX_CONCURRENCY
      ? { value: n }
      : { problem: CONCURRENCY_HELP };
  }
  if (suffix === 'TIMEOUT') {
    const ms = parseDuration(text);
    if (ms === undefined || ms <= 0) return { problem: `a positive duration: ${DURATION_HELP}` };
    if (ms > MAX_TIMER_MS) return { problem: `a duration ${MAX_TIMER_HELP}` };
    return { value: ms };
  }
  const backoff = parseBackoffText(text);
  return backoff ? { value: backoff } : { problem: BACKOFF_TEXT_HELP };
}

/**
 * Every `QUEUE_<NAME>_<SETTING>` in the environment that holds no valid value, as the lines of
 * a start-up error (`QUEUE_MAIL_TRIES="0" is not valid; expected ...`). Checked for all of them,
 * known queue or not, so a typo in a value never waits for the worker of that queue to show.
 */
export function queueVariableProblems(raw: Record<string, string | undefined>): string[] {
  const lines: string[] = [];
  for (const [name, text] of Object.entries(raw)) {
    const match = POLICY_VAR.exec(name);
    // An empty variable counts as unset, as for every other variable.
    if (!match || text === undefined || text === '') continue;
    const parsed = parseVariable(match[2]!, text);
    if ('problem' in parsed)
      lines.push(`${name}=${JSON.stringify(text)} is not valid; expected ${parsed.problem}.`);
  }
  return lines;
}

/** Where a queue's own setting came from: a variable, or a field of the config's `queues`. */
export interface PolicyValue<T> {
  value: T;
  source: 'env' | 'queue';
  /** `QUEUE_MAIL_TRIES` or `queues.mail.tries`. */
  from: string;
}

export type SourcedPolicy = { [K in PolicyKey]?: PolicyValue<NonNullable<QueuePolicy[K]>> };

/** The config's `queues` entry as written; load-config.ts has checked it. */
export interface QueueSettingsInput {
  concurrency?: number;
  globalConcurrency?: number;
  tries?: number;
  backoff?: Backoff;
  timeout?: number | string;
  /** Checked by retainProblem; read by the worker's history (src/history/). */
  retain?: RetainOptions;
}

/**
 * One queue's own policy, each value with its source: the environment over the config's
 * `queues` entry. Settings neither sets are left out (the job definition decides them).
 */
export function sourcedPolicy(
  queue: string,
  settings: QueueSettingsInput | undefined,
  raw: Record<string, string | undefined>,
): SourcedPolicy {
  const result: Record<string, PolicyValue<unknown>> = {};
  for (const key of Object.keys(SUFFIX) as PolicyKey[]) {
    const variable = queueVariable(queue, key);
    const text = raw[variable];
    // QUEUE_MAIL_GLOBAL_CONCURRENCY is mail's global cap, not the concurrency of mail_global.
    if (text !== undefined && text !== '' && POLICY_VAR.exec(variable)?.[2] === SUFFIX[key]) {
      const parsed = parseVariable(SUFFIX[key], text);
      // queueVariableProblems refused a bad one at start-up.
      if ('value' in parsed) {
        result[key] = { value: parsed.value, source: 'env', from: variable };
        continue;
      }
    }
    const field = CONFIG_FIELD[key];
    const given = settings?.[field as keyof QueueSettingsInput];
    if (given === undefined) continue;
    const value = key === 'timeoutMs' ? configTimeoutMs(given as number | string) : given;
    result[key] = { value, source: 'queue', from: `queues.${queue}.${field}` };
  }
  return result as SourcedPolicy;
}

/** The plain policy of one queue, for the worker. */
export function queuePolicy(
  queue: string,
  settings: QueueSettingsInput | undefined,
  raw: Record<string, string | undefined>,
): QueuePolicy {
  const sourced = sourcedPolicy(queue, settings, raw);
  const policy: Record<string, unknown> = {};
  for (const [key, entry] of Object.entries(sourced)) policy[key] = entry.value;
  return policy as QueuePolicy;
}

/** A config timeout: seconds (as defineJob takes them) or a duration such as '30s'. */
function configTimeoutMs(timeout: number | string): number {
  return typeof timeout === 'number' ? Math.round(timeout * 1000) : parseDuration(timeout)!;
}

/**
 * What is wrong with one entry of the config's `queues`, or undefined. Each problem names the
 * entry (`queues.mail.tries`), the value and what is allowed.
 */
export function queueSettingsProblem(queue: string, settings: unknown): string | undefined {
  const nameProblem = queueNameProblem(queue, `\`queues\` key "${queue}"`);
  if (nameProblem) return nameProblem;
  if (typeof settings !== 'object' || settings === null || Array.isArray(settings))
    return `queues.${queue} must be an object such as { tries: 3, timeout: '30s' }`;
  // `retain` is the config's alone: no variable sets it.
  const fields = [...Object.values(CONFIG_FIELD), 'retain'];
  const unknown = Object.keys(settings).filter((k) => !fields.includes(k));
  if (unknown.length > 0)
    return `queues.${queue} has unknown field ${unknown.map((k) => `"${k}"`).join(', ')}; the fields are ${fields.join(', ')}`;
  const s = settings as Record<string, unknown>;
  const shown = (v: unknown) => (typeof v === 'string' ? JSON.stringify(v) : String(v));
  const { concurrency, globalConcurrency, tries, timeout, backoff } = s;
  if (
    concurrency !== undefined &&
    !(
      Number.isInteger(concurrency) &&
      (concurrency as number) >= 1 &&
      (concurrency as number) <= MAX_CONCURRENCY
    )
  )
    return `queues.${queue}.concurrency must be ${CONCURRENCY_HELP}, got ${shown(concurrency)}`;
  if (globalConcurrency !== undefined && !isGlobalConcurrency(globalConcurrency))
    return `queues.${queue}.globalConcurrency must be ${GLOBAL_CONCURRENCY_HELP}, got ${shown(globalConcurrency)}`;
  if (tries !== undefined && !isTries(tries))
    return `queues.${queue}.tries must be ${TRIES_HELP}, got ${shown(tries)}`;
  if (timeout !== undefined) {
    const ms =
      typeof timeout === 'number'
        ? timeout * 1000
        : typeof timeout === 'string'
          ? parseDuration(timeout)
          : undefined;
    if (ms === undefined || !(ms > 0) || ms > MAX_TIMER_MS)
      return `queues.${queue}.timeout must be seconds or a duration (${DURATION_HELP}), positive and ${MAX_TIMER_HELP}; got ${shown(timeout)}`;
  }
  if (backoff !== undefined) {
    const problem = checkBackoff(backoff as Backoff);
    if (problem) return `queues.${queue}.${problem}`;
  }
  if (s.retain !== undefined) return retainProblem(s.retain, `queues.${queue}.retain`);
  return undefined;
}

function isGlobalConcurrency(n: unknown): n is number {
  return Number.isInteger(n) && (n as number) >= 1 && (n as number) <= MAX_GLOBAL_CONCURRENCY;
}
