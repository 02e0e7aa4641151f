import type * as Api from '@opentelemetry/api';
import type { JobHeaders } from '../../queue/headers.js';
import { formatTraceParent, parseTraceParent } from './traceparent.js';

/** The OpenTelemetry API module, as loaded (load.ts): never imported statically. */
export type OtelApi = typeof Api;

/**
 * The headers a job carries for the trace context `ctx` holds: what the app's propagator writes
 * (W3C trace context and baggage with the SDK's defaults), and a `traceparent` (with the span's
 * `tracestate`) written here when it wrote none: a propagator of baggage alone, or none at all
 * (the API's default), would otherwise lose the trace. Undefined when `ctx` holds no valid span
 * context: tracing without a tracer provider stores nothing with the job.
 */
export function injectHeaders(api: OtelApi, ctx: Api.Context): JobHeaders | undefined {
  const span = api.trace.getSpanContext(ctx);
  if (!span || !api.isSpanContextValid(span)) return undefined;
  const carrier: Record<string, string> = {};
  api.propagation.inject(ctx, carrier);
  if (carrier.traceparent === undefined) {
    carrier.traceparent = formatTraceParent(span);
    const state = span.traceState?.serialize();
    if (state) carrier.tracestate = state;
  }
  return carrier;
}

/**
 * The context a job's run continues: the app's propagator's reading of its headers, else the
 * `traceparent` read here, as a remote parent; undefined when the job carries none (dispatched
 * with tracing off, or before migration 0021).
 */
export function extractContext(
  api: OtelApi,
  headers: JobHeaders | undefined,
): Api.Context | undefined {
  if (!headers) return undefined;
  const root = api.ROOT_CONTEXT;
  const extracted = api.propagation.extract(root, headers);
  const found = api.trace.getSpanContext(extracted);
  if (found && api.isSpanContextValid(found)) return extracted;
  const parent = parseTraceParent(headers.traceparent);
  if (!parent) return undefined;
  const traceState =
    typeof headers.tracestate === 'string' && headers.tracestate !== ''
      ? api.createTraceState(headers.tracestate)
      : undefined;
  return api.trace.setSpanContext(extracted, { ...parent, isRemote: true, traceState });
}
