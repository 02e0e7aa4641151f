/**
 * The pieces of tracing that need no queue: the W3C traceparent jobsmith writes and reads
 * itself, the app's propagator taking precedence when it registered one, loading the API, and
 * flushing the spans a batching provider still holds before a one-shot command exits.
 */
import * as api from '@opentelemetry/api';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  InMemorySpanExporter,
} from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it } from 'vitest';
import { extractContext, injectHeaders } from '../src/telemetry/traces/carrier.js';
import { loadTracing, tracingOn } from '../src/telemetry/traces/index.js';
import { formatTraceParent, parseTraceParent } from '../src/telemetry/traces/traceparent.js';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN_ID = '00f067aa0ba902b7';
const HEADER = `00-${TRACE_ID}-${SPAN_ID}-01`;

afterEach(() => {
  api.propagation.disable();
  api.trace.disable();
});

describe('traceparent', () => {
  it('reads a version-00 header and writes it back the same', () => {
    expect(parseTraceParent(HEADER)).toEqual({ traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: 1 });
    expect(formatTraceParent({ traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: 1 })).toBe(HEADER);
    expect(formatTraceParent({ traceId: TRACE_ID, spanId: SPAN_ID, traceFlags: 0 })).toBe(
      `00-${TRACE_ID}-${SPAN_ID}-00`,
    );
  });

  it('reads a later version, ignoring the fields after the flags', () => {
    expect(parseTraceParent(`cc-${TRACE_ID}-${SPAN_ID}-01-what-comes-next`)).toEqual({
      traceId: TRACE_ID,
      spanId: SPAN_ID,
      traceFlags: 1,
    });
  });

  it.each([
    ['version ff', `ff-${TRACE_ID}-${SPAN_ID}-01`],
    ['an all-zero trace id', `00-${'0'.repeat(32)}-${SPAN_ID}-01`],
    ['an all-zero span id', `00-${TRACE_ID}-${'0'.repeat(16)}-01`],
    ['upper-case hex', `00-${TRACE_ID.toUpperCase()}-${SPAN_ID}-01`],
    ['a short trace id', `00-${TRACE_ID.slice(1)}-${SPAN_ID}-01`],
    ['version 00 with more after the flags', `${HEADER}-extra`],
    ['no header at all', undefined],
  ])('refuses %s', (_what, header) => {
    expect(parseTraceParent(header)).toBeUndefined();
  });
});

describe('the trace context a job carries', () => {
  const spanContext: api.SpanContext = {
    traceId: TRACE_ID,
    spanId: SPAN_ID,
    traceFlags: api.TraceFlags.SAMPLED,
    traceState: api.createTraceState('congo=t61rcWkgMzE'),
  };
  const active = api.trace.setSpanContext(api.ROOT_CONTEXT, spanContext);

  it('is a traceparent (and the tracestate) written by jobsmith when the app registered no propagator', () => {
    expect(injectHeaders(api, active)).toEqual({
      traceparent: HEADER,
      tracestate: 'congo=t61rcWkgMzE',
    });
    const back = api.trace.getSpanContext(extractContext(api, { traceparent: HEADER })!);
    expect(back).toEqual({
      traceId: TRACE_ID,
      spanId: SPAN_ID,
      traceFlags: 1,
      isRemote: true,
      traceState: undefined,
    });
  });

  it('is nothing without a span: a dispatch no tracer provider records stores no headers', () => {
    expect(injectHeaders(api, api.ROOT_CONTEXT)).toBeUndefined();
    expect(extractContext(api, undefined)).toBeUndefined();
    expect(extractContext(api, { traceparent: 'not a traceparent' })).toBeUndefined();
  });

  it("is what the app's propagator writes and reads, when it registered one", () => {
    // A propagator of another format (as B3 would be), read first; the traceparent jobsmith
    // adds keeps the trace whatever the propagator carries (one of baggage alone would lose it).
    api.propagation.setGlobalPropagator({
      inject(ctx, carrier, setter) {
        const span = api.trace.getSpanContext(ctx)!;
        setter.set(carrier, 'x-trace', `${span.traceId}:${span.spanId}`);
      },
      extract(ctx, carrier, getter) {
        const value = getter.get(carrier, 'x-trace');
        if (typeof value !== 'string') return ctx;
        const [traceId, spanId] = value.split(':');
        return api.trace.setSpanContext(ctx, {
          traceId: traceId!,
          spanId: spanId!,
          traceFlags: 1,
          isRemote: true,
        });
      },
      fields: () => ['x-trace'],
    });
    expect(injectHeaders(api, active)).toEqual({
      'x-trace': `${TRACE_ID}:${SPAN_ID}`,
      traceparent: HEADER,
      tracestate: 'congo=t61rcWkgMzE',
    });
    // Its reading wins over the traceparent.
    const other = `${'a'.repeat(32)}:${'b'.repeat(16)}`;
    expect(
      api.trace.getSpanContext(extractContext(api, { 'x-trace': other, traceparent: HEADER })!),
    ).toMatchObject({ traceId: 'a'.repeat(32), spanId: 'b'.repeat(16) });
    const back = api.trace.getSpanContext(
      extractContext(api, { 'x-trace': `${TRACE_ID}:${SPAN_ID}` })!,
    );
    expect(back).toMatchObject({ traceId: TRACE_ID, spanId: SPAN_ID, isRemote: true });
  });
});

describe('loadTracing', () => {
  it('loads the installed @opentelemetry/api', async () => {
    const tracing = await loadTracing();
    expect(tracing).toBeDefined();
    expect(tracing!.activeLogFields()).toBeUndefined();
  });

  it('is off, loading nothing more, when @opentelemetry/api is not installed', async () => {
    const missing = Object.assign(
      new Error(
        "Cannot find package '@opentelemetry/api' imported from /app/node_modules/jobsmith/dist/src/telemetry/traces/index.js",
      ),
      { code: 'ERR_MODULE_NOT_FOUND' },
    );
    await expect(loadTracing(() => Promise.reject(missing))).resolves.toBeUndefined();
    // A broken install is no reason to run untraced without a word.
    const broken = Object.assign(new Error("Cannot find module './trace/span'"), {
      code: 'ERR_MODULE_NOT_FOUND',
    });
    await expect(loadTracing(() => Promise.reject(broken))).rejects.toBe(broken);
  });

  it('flushes the spans a batching provider still holds', async () => {
    const exporter = new InMemorySpanExporter();
    // A long delay: nothing is exported unless flushed.
    const processor = new BatchSpanProcessor(exporter, { scheduledDelayMillis: 60_000 });
    const provider = new BasicTracerProvider({ spanProcessors: [processor] });
    api.trace.setGlobalTracerProvider(provider);
    const tracing = tracingOn(api);
    api.trace.getTracer('test').startSpan('held').end();
    expect(exporter.getFinishedSpans()).toEqual([]);
    await tracing.flush();
    expect(exporter.getFinishedSpans().map((s) => s.name)).toEqual(['held']);
    await provider.shutdown();
  });
});
