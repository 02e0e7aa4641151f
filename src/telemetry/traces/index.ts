/*
 * OpenTelemetry traces of jobs (docs/telemetry.md, Traces): a span per dispatch and a span per
 * run, linked across the queue through the trace context each job carries in its headers.
 *
 * Loaded only when TELEMETRY_ENABLED is true (src/cli/app.ts), and then only if the app has
 * @opentelemetry/api installed: it is an optional peer dependency, imported here at run time and
 * nowhere else. Spans go to the tracer provider the app registers (NodeSDK, or a provider of
 * its own, in jobsmith.config.ts or through `node --import`); without one, the API's no-op
 * tracer makes every span a no-op and jobs carry no headers.
 *
 * The core never imports this folder: tracing sits on its hooks, the Dispatcher's `around` and
 * the Worker's `aroundHandler` and events.
 */
import type { DispatchAround } from '../../queue/dispatcher.js';
import { packageVersion } from '../../util/package.js';
import { TRACER_NAME } from './attributes.js';
import { extractContext, injectHeaders, type OtelApi } from './carrier.js';
import { dispatchAround } from './dispatch-span.js';
import { RunSpans, type TraceLogFields } from './run-spans.js';

export { RunSpans, type TraceLogFields } from './run-spans.js';
export { extractContext, injectHeaders };

/** Tracing for one process: a dispatch hook, spans for a worker's runs, flushing at exit. */
export interface JobTracing {
  /** The Dispatcher's hook: a `send` span around each store, its context in the jobs' headers. */
  readonly aroundDispatch: DispatchAround;
  /** Spans for one worker's runs: pass `aroundHandler` to the Worker, then `attach` it. */
  runs(): RunSpans;
  /** The ids of the span active here (inside a handler: its run's), for a log line. */
  activeLogFields(): TraceLogFields | undefined;
  /**
   * Exports the spans the app's provider still holds (a BatchSpanProcessor's queue), at most
   * `timeoutMs`: a one-shot command (`run queue:dispatch`) exits right after its dispatch.
   */
  flush(timeoutMs?: number): Promise<void>;
}

/**
 * Tracing on the app's @opentelemetry/api; undefined when the package is not installed (then
 * nothing else is loaded). Another failure to load it is thrown. `load` is for tests.
 */
export async function loadTracing(
  load: () => Promise<OtelApi> = () => import('@opentelemetry/api'),
): Promise<JobTracing | undefined> {
  let api: OtelApi;
  try {
    api = await load();
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error;
  }
  return tracingOn(api);
}

/** Tracing on a loaded API module (tests pass theirs). */
export function tracingOn(api: OtelApi): JobTracing {
  // A ProxyTracer: spans go to whatever provider is registered when they start, also one the
  // app registers after this (a config file loads after the first dispatch hook is made).
  const tracer = api.trace.getTracer(TRACER_NAME, packageVersion());
  return {
    aroundDispatch: dispatchAround(api, tracer),
    runs: () => new RunSpans(api, tracer),
    activeLogFields() {
      const span = api.trace.getSpanContext(api.context.active());
      if (!span || !api.isSpanContextValid(span)) return undefined;
      return { trace_id: span.traceId, span_id: span.spanId };
    },
    async flush(timeoutMs = 5_000) {
      const provider = api.trace.getTracerProvider() as ForceFlushable & {
        getDelegate?: () => ForceFlushable;
      };
      const target = provider.getDelegate?.() ?? provider;
      if (typeof target.forceFlush !== 'function') return;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        target.forceFlush().catch(() => undefined),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, timeoutMs);
          timer.unref();
        }),
      ]);
      clearTimeout(timer);
    },
  };
}

interface ForceFlushable {
  forceFlush?: () => Promise<void>;
}

/** The package itself is not installed (not: one of its own imports failed). */
function isMissing(error: unknown): boolean {
  const { code, message } = error as { code?: unknown; message?: unknown };
  return (
    (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') &&
    typeof message === 'string' &&
    message.includes("'@opentelemetry/api'")
  );
}
