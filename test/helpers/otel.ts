/**
 * An OpenTelemetry SDK for tests, registered the way an app registers one: a tracer provider
 * whose spans go to an in-memory exporter, and the AsyncLocalStorage context manager (without
 * it a span is never "active" across an await). No propagator is registered, as with a bare
 * BasicTracerProvider: jobsmith writes the W3C traceparent itself (carrier.ts).
 */
import { context, propagation, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';
import { afterAll, afterEach, beforeAll } from 'vitest';

export type { ReadableSpan };

/** Registers the provider for the enclosing describe; returns the exporter holding the spans. */
export function useInMemoryTracing(): InMemorySpanExporter {
  const exporter = new InMemorySpanExporter();
  let provider: BasicTracerProvider | undefined;
  beforeAll(() => {
    provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    trace.setGlobalTracerProvider(provider);
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  });
  afterEach(() => exporter.reset());
  afterAll(async () => {
    await provider?.shutdown();
    trace.disable();
    context.disable();
    propagation.disable();
  });
  return exporter;
}

/** A span's own id, its trace's, and its parent's (undefined for a root span). */
export function idsOf(span: ReadableSpan): { traceId: string; spanId: string; parent?: string } {
  const { traceId, spanId } = span.spanContext();
  return { traceId, spanId, parent: span.parentSpanContext?.spanId };
}
