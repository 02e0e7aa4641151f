import type { Tracer } from '@opentelemetry/api';
import type { DispatchAround, DispatchInfo } from '../../queue/dispatcher.js';
import {
  BATCH_COUNT,
  CONNECTION,
  DEDUPLICATED,
  DESTINATION,
  JOB_NAME,
  MESSAGE_ID,
  MESSAGING_SYSTEM,
  OPERATION_NAME,
  OPERATION_TYPE,
  SYSTEM,
} from './attributes.js';
import { injectHeaders, type OtelApi } from './carrier.js';
import { recordError } from './record-error.js';

/**
 * The dispatch hook of tracing (Dispatcher's `around`): a PRODUCER span `<queue> send` around
 * each store of jobs, a child of whatever span is active (a web request, or the run of the job
 * that dispatches), whose context every job of the store carries in its headers. The span is
 * active while the jobs are stored, so a database instrumentation's spans nest under it.
 *
 * One span per store: `dispatchMany` of 100 jobs is one span with messaging.batch.message_count
 * 100, and the 100 runs are its children. A store of several queues, or a bulk dispatch read
 * back in batches, is named `send`.
 */
export function dispatchAround(api: OtelApi, tracer: Tracer): DispatchAround {
  return async (info, store) => {
    const active = api.context.active();
    const span = tracer.startSpan(
      spanName(info),
      { kind: api.SpanKind.PRODUCER, attributes: attributesOf(info) },
      active,
    );
    const ctx = api.trace.setSpan(active, span);
    try {
      const result = await api.context.with(ctx, () => store(injectHeaders(api, ctx)));
      const [first, second] = Array.isArray(result) ? (result as unknown[]) : [];
      // A store of one job: its id (and whether a unique key found it already waiting).
      if (second === undefined && isPushResult(first)) {
        span.setAttribute(MESSAGE_ID, first.id);
        if (first.deduplicated) span.setAttribute(DEDUPLICATED, true);
      }
      return result;
    } catch (error) {
      recordError(api, span, error);
      throw error;
    } finally {
      span.end();
    }
  };
}

function queuesOf(info: DispatchInfo): string[] {
  return info.jobs ? [...new Set(info.jobs.map((j) => j.queue))] : [];
}

function spanName(info: DispatchInfo): string {
  const queues = queuesOf(info);
  return queues.length === 1 ? `${queues[0]} send` : 'send';
}

function attributesOf(info: DispatchInfo): Record<string, string | number> {
  const attributes: Record<string, string | number> = {
    [MESSAGING_SYSTEM]: SYSTEM,
    [OPERATION_TYPE]: 'send',
    [OPERATION_NAME]: 'send',
    [CONNECTION]: info.connection,
  };
  const queues = queuesOf(info);
  if (queues.length === 1) attributes[DESTINATION] = queues[0]!;
  const jobs = info.jobs ?? [];
  if (jobs.length > 1) attributes[BATCH_COUNT] = jobs.length;
  const names = new Set(jobs.map((j) => j.name));
  if (names.size === 1) attributes[JOB_NAME] = jobs[0]!.name;
  return attributes;
}

function isPushResult(value: unknown): value is { id: string; deduplicated: boolean } {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { id?: unknown }).id === 'string' &&
    typeof (value as { deduplicated?: unknown }).deduplicated === 'boolean'
  );
}
