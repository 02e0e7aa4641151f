/*
 * The config's `alerts` section: checked with zod when the config loads (only a config that
 * has the section loads this file), and resolved into what the checker runs, durations in ms.
 * Every problem is reported with the alert's name and what to write instead.
 */
import { z } from 'zod';
import { ConfigError } from '../errors.js';
import { queueNameProblem } from '../jobs/limits.js';
import { DURATION_HELP, parseDuration } from '../util/duration.js';
import {
  CONDITION_KIND,
  MEASURE_KIND,
  describeCondition,
  type ConditionSpec,
} from './conditions.js';
import { parseTarget, TARGET_HELP, type AlertTarget } from './targets.js';

/** A condition with its durations in ms and its defaults filled in. */
export type ResolvedCondition =
  | { type: 'queueSize'; queue: string; connection?: string; above: number; forMs: number }
  | {
      type: 'failureRate';
      queue?: string;
      job?: string;
      above: number;
      minAttempts: number;
      overMs: number;
      forMs: number;
    }
  | {
      type: 'failures' | 'sendFailures';
      queue?: string;
      job?: string;
      above: number;
      overMs: number;
      forMs: number;
    }
  | { type: 'waitTime'; queue: string; aboveMs: number; overMs: number; forMs: number }
  | { type: 'breakerOpen'; breaker: string; connection?: string; forMs: number }
  | { type: 'noWorker'; queue: string; forMs: number };

export interface ResolvedAlert {
  name: string;
  condition: ResolvedCondition;
  /** The condition as written: `queueSize(telegram) > 1000 for 5m`. */
  description: string;
  targets: AlertTarget[];
  cooldownMs: number;
  /**
   * The queue of this alert's `webhook.post` notifications; undefined: the job's own, `default`.
   * Telegram and mail targets go on their integrations' queues.
   */
  queue?: string;
}

/** The job whose failed attempts sendFailures() counts. */
export const SEND_JOB = 'telegram.send';
export const DEFAULT_COOLDOWN_MS = 300_000;
export const DEFAULT_WINDOW_MS = 300_000;
/** The longest `for`, `over` and `cooldown`. */
const MAX_MS = 7 * 86_400_000;
const ALERT_NAME = /^[A-Za-z0-9_.-]{1,100}$/;

export const ALERTS_HINT =
  'Fix that alert in the config: docs/telemetry.md#alerts lists the conditions, the targets and what each takes.';

/** A duration in seconds or with a unit, to ms; `shown` says what it is, as the user wrote it. */
const duration = (shown: (v: unknown) => string, min = 0) =>
  z.union([z.number(), z.string()]).transform((v, ctx) => {
    const ms = typeof v === 'number' ? v * 1000 : parseDuration(v);
    if (ms === undefined || !Number.isFinite(ms) || ms < min || ms > MAX_MS) {
      const range = min > 0 ? `from ${min / 60_000}m to 7d` : 'of at most 7d';
      ctx.addIssue({
        code: 'custom',
        message: `${shown(v)} is not a duration ${range}; use ${DURATION_HELP}`,
      });
      return z.NEVER;
    }
    return Math.round(ms);
  });

const queue = (method: string) =>
  z.string().superRefine((v, ctx) => {
    const problem = queueNameProblem(v, `${method}(${JSON.stringify(v)}): the queue`);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

const name = (method: string, what: string) =>
  z
    .string()
    .regex(
      /^[A-Za-z0-9_.:-]{1,190}$/,
      `${method}(): the ${what} is letters, digits and . _ : - (at most 190)`,
    );

const count = (method: string) =>
  z
    .number({ message: `${method}.above() takes a number` })
    .finite()
    .min(0, `${method}.above() takes a number ≥ 0`);

const forMs = duration((v) => `.for(${JSON.stringify(v)})`).default(0);
const overMs = duration((v) => `.over(${JSON.stringify(v)})`, 60_000).default('5m');
const connection = z
  .enum(['database', 'redis', 'sync'], {
    message: 'the connection is database, redis or sync',
  })
  .optional();
const selector = (method: string) => ({
  queue: queue(method).optional(),
  job: name(method, 'job name').optional(),
});

const conditionSchema = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('queueSize'),
      queue: queue('queueSize'),
      connection,
      above: count('queueSize'),
      for: forMs,
    })
    .strict(),
  z
    .object({
      type: z.literal('failureRate'),
      ...selector('failureRate'),
      above: z
        .number({ message: 'failureRate().above() takes a ratio from 0 to 1 (0.2 for 20%)' })
        .min(0, 'failureRate().above() takes a ratio from 0 to 1 (0.2 for 20%)')
        .max(1, 'failureRate().above() takes a ratio from 0 to 1 (0.2 for 20%), not a percentage'),
      minAttempts: z
        .number()
        .int()
        .min(1, 'failureRate(..., { minAttempts }) is a whole number ≥ 1')
        .default(1),
      over: overMs,
      for: forMs,
    })
    .strict(),
  z
    .object({
      type: z.literal('failures'),
      ...selector('failures'),
      above: count('failures()'),
      over: overMs,
      for: forMs,
    })
    .strict(),
  z
    .object({
      type: z.literal('sendFailures'),
      above: count('sendFailures()'),
      over: overMs,
      for: forMs,
    })
    .strict(),
  z
    .object({
      type: z.literal('waitTime'),
      queue: queue('waitTime'),
      above: duration((v) => `waitTime().above(${JSON.stringify(v)})`),
      over: overMs,
      for: forMs,
    })
    .strict(),
  z
    .object({
      type: z.literal('breakerOpen'),
      breaker: name('breakerOpen', 'breaker name'),
      connection,
      for: forMs,
    })
    .strict(),
  z.object({ type: z.literal('noWorker'), queue: queue('noWorker'), for: forMs }).strict(),
]);

const CONDITIONS_HELP =
  "a condition from 'jobsmith/alerts': queueSize('telegram').above(1000).for('5m'), failureRate('gpt').above(0.2).over('10m'), breakerOpen('openai'), sendFailures().above(50), waitTime('default').above('60s') or noWorker('mail')";

const when = z.unknown().transform((value, ctx) => {
  const kind = (value as { kind?: unknown } | null)?.kind;
  if (kind === MEASURE_KIND) {
    ctx.addIssue({
      code: 'custom',
      message: `when: ${String(value)} has no threshold; add one: ${String(value)}.above(${String(value).startsWith('waitTime') ? "'60s'" : String(value).startsWith('failureRate') ? '0.2' : '1000'})`,
    });
    return z.NEVER;
  }
  if (kind !== CONDITION_KIND) {
    ctx.addIssue({ code: 'custom', message: `when must be ${CONDITIONS_HELP}` });
    return z.NEVER;
  }
  const spec = (value as { spec: unknown }).spec;
  const parsed = conditionSchema.safeParse(spec);
  if (!parsed.success) {
    for (const issue of parsed.error.issues)
      ctx.addIssue({ ...issue, message: conditionIssue(issue) });
    return z.NEVER;
  }
  return { spec: spec as ConditionSpec, resolved: parsed.data };
});

/** A condition's issue as a sentence: ours say which method; zod's own get the field. */
function conditionIssue(issue: z.ZodIssue): string {
  if (issue.code === 'custom' || issue.message.includes('(')) return `when: ${issue.message}`;
  if (issue.code === 'unrecognized_keys')
    return `when: unknown field ${issue.keys.join(', ')}; build the condition with ${CONDITIONS_HELP}`;
  if (issue.code === 'invalid_union_discriminator')
    return `when: unknown condition type; use ${CONDITIONS_HELP}`;
  return `when.${issue.path.join('.')}: ${issue.message}`;
}

const alertSchema = z
  .object({
    name: z
      .string({ message: 'name is required: letters, digits and . _ - (at most 100)' })
      .regex(ALERT_NAME, 'name is letters, digits and . _ - (at most 100)'),
    when,
    notify: z
      .array(z.string({ message: `each notify entry is a string: ${TARGET_HELP}` }), {
        message: `notify is a list of targets: ['${'telegram:CHAT_ID'}', 'mail:ops@example.com', 'webhook:https://...']`,
      })
      .min(1, `notify needs at least one target: ${TARGET_HELP}`)
      .max(20, 'notify takes at most 20 targets')
      .transform((list, ctx) =>
        list.map((text, i) => {
          const target = parseTarget(text);
          if (typeof target === 'string') {
            ctx.addIssue({ code: 'custom', message: `notify[${i}]: ${target}` });
            return undefined as unknown as AlertTarget;
          }
          return target;
        }),
      ),
    cooldown: duration((v) => `cooldown ${JSON.stringify(v)}`)
      .optional()
      .transform((ms) => ms ?? DEFAULT_COOLDOWN_MS),
    queue: z
      .string()
      .superRefine((v, ctx) => {
        const problem = queueNameProblem(v, `queue ${JSON.stringify(v)}`);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      })
      .optional(),
  })
  .strict();

/** What an issue of one alert says: ours carry their field; zod's get it from the path. */
function alertIssue(issue: z.ZodIssue): string {
  if (issue.code === 'unrecognized_keys')
    return `unknown field ${issue.keys.map((k) => `"${k}"`).join(', ')}; the fields are name, when, notify, cooldown, queue`;
  if (issue.code === 'custom' || issue.path.length === 0) return issue.message;
  if (issue.path[0] === 'when' && issue.code === 'invalid_type')
    return `when must be ${CONDITIONS_HELP}`;
  return issue.message.startsWith(String(issue.path[0]))
    ? issue.message
    : `${issue.path.join('.')}: ${issue.message}`;
}

/** Where the alert is in the config, by name when it has a usable one. */
function whereIs(value: unknown, index: number): string {
  const name = (value as { name?: unknown } | null)?.name;
  return typeof name === 'string' && ALERT_NAME.test(name) ? `alert "${name}"` : `alerts[${index}]`;
}

/**
 * The config's alerts, checked and resolved.
 * @returns the alerts, or the problems found (each naming its alert).
 */
export function parseAlerts(value: unknown): { alerts: ResolvedAlert[] } | { problems: string[] } {
  if (!Array.isArray(value))
    return {
      problems: [
        "`alerts` must be an array: [{ name: 'telegram-backlog', when: queueSize('telegram').above(1000).for('5m'), notify: ['telegram:123456'] }]",
      ],
    };
  const problems: string[] = [];
  const alerts: ResolvedAlert[] = [];
  const seen = new Set<string>();
  value.forEach((entry, index) => {
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      problems.push(`alerts[${index}] must be an object: { name, when, notify, cooldown? }`);
      return;
    }
    const parsed = alertSchema.safeParse(entry);
    if (!parsed.success) {
      const said = [...new Set(parsed.error.issues.map(alertIssue))];
      problems.push(`${whereIs(entry, index)}: ${said.join('; ')}`);
      return;
    }
    const { name, when, notify, cooldown, queue: webhookQueue } = parsed.data;
    if (seen.has(name)) {
      problems.push(`two alerts are named "${name}"; alert names must be unique`);
      return;
    }
    seen.add(name);
    alerts.push({
      name,
      condition: resolveCondition(when.resolved),
      description: describeCondition(when.spec),
      targets: notify,
      cooldownMs: cooldown,
      ...(webhookQueue === undefined ? {} : { queue: webhookQueue }),
    });
  });
  return problems.length > 0 ? { problems } : { alerts };
}

function resolveCondition(c: z.output<typeof conditionSchema>): ResolvedCondition {
  switch (c.type) {
    case 'queueSize':
      return {
        type: c.type,
        queue: c.queue,
        connection: c.connection,
        above: c.above,
        forMs: c.for,
      };
    case 'failureRate':
      return {
        type: c.type,
        queue: c.queue,
        job: c.job,
        above: c.above,
        minAttempts: c.minAttempts,
        overMs: c.over,
        forMs: c.for,
      };
    case 'failures':
      return {
        type: c.type,
        queue: c.queue,
        job: c.job,
        above: c.above,
        overMs: c.over,
        forMs: c.for,
      };
    case 'sendFailures':
      return { type: c.type, job: SEND_JOB, above: c.above, overMs: c.over, forMs: c.for };
    case 'waitTime':
      return { type: c.type, queue: c.queue, aboveMs: c.above, overMs: c.over, forMs: c.for };
    case 'breakerOpen':
      return { type: c.type, breaker: c.breaker, connection: c.connection, forMs: c.for };
    case 'noWorker':
      return { type: c.type, queue: c.queue, forMs: c.for };
  }
}

/** Checks the config's `alerts` section; `fail` throws the config's error. Called by loadConfig. */
export function checkAlertsConfig(
  value: unknown,
  fail: (problem: string, hint?: string) => never,
): void {
  if (value === undefined) return;
  const parsed = parseAlerts(value);
  if ('problems' in parsed) fail(`${parsed.problems.join('; ')}.`, ALERTS_HINT);
}

/** The config's alerts, resolved; the config was checked when it loaded. */
export function configuredAlerts(value: unknown): ResolvedAlert[] {
  if (value === undefined) return [];
  const parsed = parseAlerts(value);
  // loadConfig checked the section; this only happens to a config object built in code.
  if ('problems' in parsed)
    throw new ConfigError(`Invalid alerts: ${parsed.problems.join('; ')}.`, { hint: ALERTS_HINT });
  return parsed.alerts;
}
