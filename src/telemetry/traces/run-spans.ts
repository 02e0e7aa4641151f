import type { Attributes, Span, Tracer } from '@opentelemetry/api';
import type { ClaimedJob } from '../../queue/driver.js';
import type { AroundHandler } from '../../worker/executor.js';
import type { Worker } from '../../worker/worker.js';
import { redact } from '../../logging/redact.js';
import {
  CANCEL_REASON,
  CLIENT_ID,
  DESTINATION,
  FAIL_REASON,
  JOB_ATTEMPT,
  JOB_NAME,
  JOB_OUTCOME,
  MESSAGE_ID,
  MESSAGING_SYSTEM,
  OPERATION_NAME,
  OPERATION_TYPE,
  RETRY_DELAY,
  SYSTEM,
} from './attributes.js';
import { extractContext, type OtelApi } from './carrier.js';
import { recordError } from './record-error.js';

/** The ids a log line of a job carries to find its span (`trace_id`, `span_id`). */
export type TraceLogFields = { trace_id: string; span_id: string };

/**
 * The spans of one worker's runs: a CONSUMER span `<queue> process` per attempt, from the
 * job's start (`job:processing`) to its outcome (`job:processed`, `job:failed`...), a child of
 * the dispatch span whose context the job carries (and linked to it, as the messaging
 * conventions ask), or a root span for a job that carries none. Its handler runs inside it
 * (`aroundHandler`), so the spans the handler starts and the jobs it dispatches are its
 * children: a chain of jobs is one trace.
 *
 * Made before the worker (it needs `aroundHandler`), attached to it once it exists. Attach it
 * before the renderer: the renderer's log lines then find the span's ids (`logFields`).
 */
export class RunSpans {
  /** Spans of jobs not yet settled, by the worker's own job object. */
  private readonly open = new Map<ClaimedJob, Span>();
  /** The ids of each job's latest span, kept for the log lines written after it ended. */
  private readonly ids = new WeakMap<ClaimedJob, TraceLogFields>();

  constructor(
    private readonly api: OtelApi,
    private readonly tracer: Tracer,
  ) {}

  /** Runs a handler inside its job's span (WorkerDeps.aroundHandler). */
  readonly aroundHandler: AroundHandler = (job, run) => {
    const span = this.open.get(job);
    if (!span) return run();
    const { context, trace } = this.api;
    return context.with(trace.setSpan(context.active(), span), run);
  };

  /** The trace and span ids of a job's run, for its log lines; undefined when none is recorded. */
  logFields(job: ClaimedJob): TraceLogFields | undefined {
    return this.ids.get(job);
  }

  /** Starts and ends spans on `worker`'s events (`name`: the worker's, for the spans). */
  attach(worker: Worker, name?: string): void {
    worker.on('job:processing', ({ job }) => this.start(job, name));
    worker.on('job:processed', ({ job }) => this.end(job, 'processed'));
    worker.on('job:skipped', ({ job }) => this.end(job, 'skipped'));
    worker.on('job:cancelled', ({ job, reason }) =>
      this.end(job, 'cancelled', undefined, { [CANCEL_REASON]: redact(reason) }),
    );
    worker.on('job:released', ({ job, delayMs, error, refunded }) =>
      // A RetryAfter (rate limit, open breaker) spends no attempt and is no failure.
      refunded
        ? this.end(job, 'deferred', undefined, { [RETRY_DELAY]: delayMs })
        : this.end(job, 'retried', error, { [RETRY_DELAY]: delayMs }),
    );
    worker.on('job:failed', ({ job, reason, error }) =>
      this.end(job, 'failed', error, { [FAIL_REASON]: reason }),
    );
    worker.on('job:abandoned', ({ job, error }) => this.end(job, 'abandoned', error));
    worker.on('job:lost', ({ job }) =>
      this.end(job, 'lost', new Error('The lease was taken by another claim; nothing changed.')),
    );
    worker.on('job:stuck', ({ job, error }) => {
      // The outcome (a retry one lease later, or a timeout failure) follows as its own event.
      this.open
        .get(job)
        ?.addEvent('jobsmith.job.stuck', { 'exception.message': redact(error.message) });
    });
    // A job whose outcome could not be written has no outcome event: its span still ends.
    worker.on('worker:stopped', () => {
      for (const job of [...this.open.keys()]) this.end(job, 'unsettled');
    });
  }

  private start(job: ClaimedJob, workerName: string | undefined): void {
    const { api } = this;
    const parent = extractContext(api, job.headers);
    const origin = parent && api.trace.getSpanContext(parent);
    const attributes: Attributes = {
      [MESSAGING_SYSTEM]: SYSTEM,
      [OPERATION_TYPE]: 'process',
      [OPERATION_NAME]: 'process',
      [DESTINATION]: job.queue,
      [MESSAGE_ID]: job.id,
      [JOB_NAME]: job.name,
      [JOB_ATTEMPT]: job.attempts,
    };
    if (workerName !== undefined) attributes[CLIENT_ID] = workerName;
    const span = this.tracer.startSpan(
      `${job.queue} process`,
      {
        kind: api.SpanKind.CONSUMER,
        attributes,
        links: origin ? [{ context: origin }] : undefined,
      },
      // Never the worker's own context: a job's run belongs to the trace that dispatched it.
      parent ?? api.ROOT_CONTEXT,
    );
    this.open.set(job, span);
    const own = span.spanContext();
    if (api.isSpanContextValid(own))
      this.ids.set(job, { trace_id: own.traceId, span_id: own.spanId });
  }

  private end(job: ClaimedJob, outcome: string, error?: Error, attributes?: Attributes): void {
    const span = this.open.get(job);
    if (!span) return;
    this.open.delete(job);
    span.setAttribute(JOB_OUTCOME, outcome);
    if (attributes) span.setAttributes(attributes);
    if (error) recordError(this.api, span, error);
    span.end();
  }
}
