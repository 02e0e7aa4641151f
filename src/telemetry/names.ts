/*
 * Every metric jobsmith exports, named once: Prometheus style, base units (seconds), counters
 * ending in _total. docs/telemetry.md has the same table for people (a test keeps them equal).
 * Labels are queues, job names, states, breaker and limit names and a few fixed words, never an
 * id, a chat or a message: each label combination lives as long as the process does.
 */

/** Where a metric is served: by every long-running process, or by `run metrics:serve`. */
export type MetricSource = 'process' | 'metrics:serve';

export interface MetricSpec {
  name: string;
  type: 'counter' | 'gauge' | 'histogram';
  labels: readonly string[];
  help: string;
  source: MetricSource;
}

/**
 * Histogram buckets, in seconds, for job runtimes, waits and GPT responses: fine below a
 * second, then up to 120 s, since a GPT call can take a minute or two.
 */
export const SECONDS_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120,
] as const;

/**
 * How a job's run (or its claim) ended, the `outcome` label of jobsmith_jobs_processed_total:
 * one per worker event (src/worker/events.ts).
 */
export const JOB_OUTCOMES = [
  'succeeded',
  'failed',
  'released',
  'deferred',
  'cancelled',
  'skipped',
  'abandoned',
  'lost',
] as const;
export type JobOutcome = (typeof JOB_OUTCOMES)[number];

/** The `job` label of a job whose name the worker does not know (a stray name is unbounded). */
export const UNKNOWN_JOB = '(unknown)';

/** jobsmith_breaker_state's values. */
export const BREAKER_STATE_VALUES = { closed: 0, 'half-open': 1, open: 2 } as const;

export const METRICS = {
  processInfo: {
    name: 'jobsmith_process_info',
    type: 'gauge',
    labels: ['command'],
    help: 'Always 1; `command` is the jobsmith command this process runs (queue:work, longpoll...).',
    source: 'process',
  },
  jobsProcessed: {
    name: 'jobsmith_jobs_processed_total',
    type: 'counter',
    labels: ['queue', 'job', 'outcome'],
    help: 'Jobs this worker finished or put back, by queue, job name and outcome (succeeded, failed, released, deferred, cancelled, skipped, abandoned, lost).',
    source: 'process',
  },
  jobDuration: {
    name: 'jobsmith_job_duration_seconds',
    type: 'histogram',
    labels: ['queue', 'job'],
    help: 'How long job handlers ran, per attempt that ran (succeeded, failed by an error or timeout, released for a retry, cancelled).',
    source: 'process',
  },
  jobWait: {
    name: 'jobsmith_job_wait_seconds',
    type: 'histogram',
    labels: ['queue'],
    help: 'How long jobs waited from when they could run (dispatch, end of delay or backoff) until a worker started them.',
    source: 'process',
  },
  telegramSent: {
    name: 'jobsmith_telegram_sent_total',
    type: 'counter',
    labels: [],
    help: 'Bot API sends (telegram.send, telegram.scheduled) that Telegram accepted.',
    source: 'process',
  },
  telegramFailures: {
    name: 'jobsmith_telegram_send_failures_total',
    type: 'counter',
    labels: ['reason'],
    help: 'Bot API sends that failed, by reason: flood (429), blocked (403), migrated (group became a supergroup), rejected (other 4xx), transient (5xx, network, timeout).',
    source: 'process',
  },
  gptResponse: {
    name: 'jobsmith_gpt_response_seconds',
    type: 'histogram',
    labels: ['outcome'],
    help: 'Response time of each gpt.complete attempt (outcome: succeeded or failed).',
    source: 'process',
  },
  queueSize: {
    name: 'jobsmith_queue_size',
    type: 'gauge',
    labels: ['queue', 'state'],
    help: 'Jobs per queue and state (pending: ready now; delayed: waiting for their time; reserved: held by a worker).',
    source: 'metrics:serve',
  },
  failedJobs: {
    name: 'jobsmith_failed_jobs',
    type: 'gauge',
    labels: ['queue'],
    help: 'Failed jobs stored (failed_jobs, the dead-letter queue) per queue.',
    source: 'metrics:serve',
  },
  queuePaused: {
    name: 'jobsmith_queue_paused',
    type: 'gauge',
    labels: ['queue'],
    help: '1 while run queue:pause holds the queue, else 0.',
    source: 'metrics:serve',
  },
  breakerState: {
    name: 'jobsmith_breaker_state',
    type: 'gauge',
    labels: ['name'],
    help: 'Circuit breaker state: 0 closed, 1 half-open, 2 open.',
    source: 'metrics:serve',
  },
  rateLimitBacklog: {
    name: 'jobsmith_rate_limit_backlog_seconds',
    type: 'gauge',
    labels: ['limit'],
    help: "How far ahead the rate limit's busiest key is booked: a job it turns away now waits about this long (0: room now).",
    source: 'metrics:serve',
  },
  refreshedAt: {
    name: 'jobsmith_metrics_refreshed_timestamp_seconds',
    type: 'gauge',
    labels: [],
    help: 'When metrics:serve last read the storage (Unix time); the gauges above are as of then.',
    source: 'metrics:serve',
  },
  refreshDuration: {
    name: 'jobsmith_metrics_refresh_duration_seconds',
    type: 'gauge',
    labels: [],
    help: 'How long the last read of the storage took.',
    source: 'metrics:serve',
  },
  refreshFailures: {
    name: 'jobsmith_metrics_refresh_failures_total',
    type: 'counter',
    labels: [],
    help: 'Reads of the storage that failed (the gauges keep their last values meanwhile).',
    source: 'metrics:serve',
  },
} as const satisfies Record<string, MetricSpec>;
