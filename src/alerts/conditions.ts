/*
 * The conditions an alert's `when` takes, built by chaining:
 *
 *   queueSize('telegram').above(1000).for('5m')
 *   failureRate('gpt').above(0.2).over('10m')
 *   breakerOpen('openai')
 *   sendFailures().above(50).over('5m')
 *   waitTime('default').above('60s')
 *   noWorker('mail').for('2m')
 *
 * A builder only records what it was given (a plain `spec`); nothing is checked here, so a
 * mistake is reported when the config loads, by src/alerts/settings.ts, with the alert's name.
 * Pure: a config file loads this module, and it loads nothing.
 */

/** Seconds (`90`) or a duration with a unit (`'500ms'`, `'30s'`, `'5m'`, `'2h'`, `'1d'`). */
export type AlertDuration = number | string;

/** Which jobs a failure count or rate reads: a queue's, a job name's, or both. */
export type JobSelector = string | { queue?: string; job?: string };

/** The fields every condition may have. */
interface Held {
  /** How long the condition must hold without a break before the alert fires. @defaultValue 0 */
  for?: AlertDuration;
}

/** The last minutes of job_metrics a rate reads. */
interface Windowed extends Held {
  /** @defaultValue '5m' */
  over?: AlertDuration;
}

/** What a condition measures and its threshold, as written in the config. */
export type ConditionSpec =
  | (Held & { type: 'queueSize'; queue: string; connection?: string; above: number })
  | (Windowed & {
      type: 'failureRate';
      queue?: string;
      job?: string;
      above: number;
      minAttempts?: number;
    })
  | (Windowed & { type: 'failures'; queue?: string; job?: string; above: number })
  | (Windowed & { type: 'sendFailures'; above: number })
  | (Windowed & { type: 'waitTime'; queue: string; above: AlertDuration })
  | (Held & { type: 'breakerOpen'; breaker: string; connection?: string })
  | (Held & { type: 'noWorker'; queue: string });

export type ConditionType = ConditionSpec['type'];

/** Marks condition objects; checked by value, since a config may load its own copy of this file. */
export const CONDITION_KIND = 'jobsmith.alert-condition';
/** Marks a measure that still lacks its threshold (`queueSize('telegram')` without `.above`). */
export const MEASURE_KIND = 'jobsmith.alert-measure';

/** An alert's `when`: a condition that holds or not at each check. */
export class AlertCondition<S extends ConditionSpec = ConditionSpec> {
  readonly kind = CONDITION_KIND;

  constructor(readonly spec: S) {}

  /**
   * Fires only once the condition has held for `duration` without a break (a check that finds
   * it false starts the count again): `queueSize('telegram').above(1000).for('5m')`.
   */
  for(duration: AlertDuration): this {
    return this.with({ for: duration } as Partial<S>);
  }

  protected with(patch: Partial<S>): this {
    const Same = this.constructor as new (spec: S) => this;
    return new Same({ ...this.spec, ...patch });
  }

  toString(): string {
    return describeCondition(this.spec);
  }
}

/** A condition over the last minutes of job_metrics. */
export class WindowedCondition<
  S extends Extract<ConditionSpec, Windowed> = Extract<ConditionSpec, Windowed>,
> extends AlertCondition<S> {
  /** Reads the jobs that ended within the last `window`, in whole minutes. @defaultValue '5m' */
  over(window: AlertDuration): this {
    return this.with({ over: window } as unknown as Partial<S>);
  }
}

/** A measure waiting for its threshold. */
export class AlertMeasure<T, C> {
  readonly kind = MEASURE_KIND;

  constructor(
    /** The call that made it, as written: `queueSize('telegram')`. */
    readonly label: string,
    private readonly make: (threshold: T) => C,
  ) {}

  /** Holds while the measure is above `threshold` (strictly). */
  above(threshold: T): C {
    return this.make(threshold);
  }

  toString(): string {
    return this.label;
  }
}

/**
 * Waiting jobs of a queue (pending + delayed, as `run queue:monitor` counts them), read from the
 * queue connection (QUEUE_CONNECTION unless `connection` says otherwise).
 */
export function queueSize(queue: string, options: { connection?: string } = {}) {
  return new AlertMeasure<number, AlertCondition>(
    `queueSize(${quoted(queue)})`,
    (above) => new AlertCondition({ type: 'queueSize', queue, ...options, above }),
  );
}

/**
 * Failed attempts per attempt that ended, from 0 to 1: attempts that threw (retried or failed
 * for good) divided by those that ended (succeeded, retried or failed), over the window. A
 * string names a queue; `{ job }` a job name. No attempt in the window: the condition does not
 * hold; `minAttempts` asks for more before a rate counts.
 */
export function failureRate(of: JobSelector, options: { minAttempts?: number } = {}) {
  const selector = typeof of === 'string' ? { queue: of } : of;
  return new AlertMeasure<number, WindowedCondition>(
    `failureRate(${quoted(of)})`,
    (above) => new WindowedCondition({ type: 'failureRate', ...selector, ...options, above }),
  );
}

/** Failed attempts (retried or failed for good) over the window: a queue's, or `{ job }`'s. */
export function failures(of: JobSelector = {}) {
  const selector = typeof of === 'string' ? { queue: of } : of;
  return new AlertMeasure<number, WindowedCondition>(
    `failures(${quoted(of)})`,
    (above) => new WindowedCondition({ type: 'failures', ...selector, above }),
  );
}

/** Failed attempts of `telegram.send` (the Telegram sender) over the window. */
export function sendFailures() {
  return new AlertMeasure<number, WindowedCondition>(
    'sendFailures()',
    (above) => new WindowedCondition({ type: 'sendFailures', above }),
  );
}

/**
 * Average wait of a queue's jobs that started within the window: from when each could run to
 * when a worker took it. A queue no worker takes from shows no wait: pair it with noWorker.
 */
export function waitTime(queue: string) {
  return new AlertMeasure<AlertDuration, WindowedCondition>(
    `waitTime(${quoted(queue)})`,
    (above) => new WindowedCondition({ type: 'waitTime', queue, above }),
  );
}

/**
 * Holds while the circuit breaker is not closed: open, or half-open (its cooldown is over and
 * no probe has closed it yet). Read from the queue connection's storage.
 */
export function breakerOpen(breaker: string, options: { connection?: string } = {}) {
  return new AlertCondition({ type: 'breakerOpen', breaker, ...options });
}

/**
 * Holds while no live worker serves the queue: none in the workers registry lists it, or those
 * that do have missed their heartbeats (`run workers:list` shows them stale).
 */
export function noWorker(queue: string) {
  return new AlertCondition({ type: 'noWorker', queue });
}

/** An argument as a config would write it: `'telegram'`, `{"job":"gpt.complete"}`. */
const quoted = (v: unknown) =>
  typeof v === 'string' ? `'${v}'` : Object.keys(v ?? {}).length === 0 ? '' : JSON.stringify(v);

function describeSelector(s: { queue?: string; job?: string }): string {
  const parts = [
    ...(s.queue !== undefined ? [`queue ${s.queue}`] : []),
    ...(s.job !== undefined ? [`job ${s.job}`] : []),
  ];
  return parts.join(', ') || 'all jobs';
}

const shown = (d: AlertDuration) => (typeof d === 'number' ? `${d}s` : d);

/** `queueSize(telegram) > 1000 for 5m`, `failureRate(queue gpt) > 0.2 over 10m`. */
export function describeCondition(spec: ConditionSpec): string {
  let text: string;
  switch (spec.type) {
    case 'queueSize':
      text = `queueSize(${spec.queue}) > ${spec.above}`;
      break;
    case 'failureRate':
      text = `failureRate(${describeSelector(spec)}) > ${spec.above} over ${shown(spec.over ?? '5m')}`;
      break;
    case 'failures':
      text = `failures(${describeSelector(spec)}) > ${spec.above} over ${shown(spec.over ?? '5m')}`;
      break;
    case 'sendFailures':
      text = `sendFailures() > ${spec.above} over ${shown(spec.over ?? '5m')}`;
      break;
    case 'waitTime':
      text = `waitTime(${spec.queue}) > ${shown(spec.above)} over ${shown(spec.over ?? '5m')}`;
      break;
    case 'breakerOpen':
      text = `breakerOpen(${spec.breaker})`;
      break;
    case 'noWorker':
      text = `noWorker(${spec.queue})`;
      break;
  }
  return spec.for !== undefined && spec.for !== 0 && spec.for !== '0'
    ? `${text} for ${shown(spec.for)}`
    : text;
}
