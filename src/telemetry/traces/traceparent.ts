/*
 * The W3C Trace Context `traceparent` header (https://www.w3.org/TR/trace-context/), written and
 * read by jobsmith itself, so that a job's run joins the trace that dispatched it even when the
 * app registered a tracer provider and no propagator (sdk-trace-base's BasicTracerProvider has
 * no register(), and the API's default propagator writes nothing). A propagator the app did
 * register is used first (carrier.ts).
 */

/** What a traceparent says. */
export interface TraceParent {
  /** 32 lowercase hex digits, not all zero. */
  traceId: string;
  /** 16 lowercase hex digits, not all zero. */
  spanId: string;
  /** Trace flags: bit 0 is `sampled`. */
  traceFlags: number;
}

const HEADER = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);

/** `00-<trace id>-<span id>-<flags>`, the version this implements. */
export function formatTraceParent(parent: TraceParent): string {
  const flags = (parent.traceFlags & 0xff).toString(16).padStart(2, '0');
  return `00-${parent.traceId}-${parent.spanId}-${flags}`;
}

/**
 * A traceparent header read back; undefined when it is not one: the wrong shape, version `ff`,
 * an all-zero id, or a version-00 header with more after the flags. A later version's extra
 * fields are ignored, as the specification asks.
 */
export function parseTraceParent(header: unknown): TraceParent | undefined {
  if (typeof header !== 'string') return undefined;
  const match = HEADER.exec(header.trim());
  if (!match) return undefined;
  const [, version, traceId, spanId, flags, rest] = match;
  if (version === 'ff' || (version === '00' && rest !== undefined)) return undefined;
  if (traceId === ZERO_TRACE || spanId === ZERO_SPAN) return undefined;
  return { traceId: traceId!, spanId: spanId!, traceFlags: parseInt(flags!, 16) };
}
