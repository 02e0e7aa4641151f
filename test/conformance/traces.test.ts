/**
 * Traces across the queue (src/telemetry/traces/), on every driver: a dispatch is a PRODUCER
 * span `<queue> send`, the run of each attempt a CONSUMER span `<queue> process`, its child
 * through the trace context the job carries in its headers, whatever process or host runs it.
 * Wired as `run queue:work` wires it: the Dispatcher's hook, the Worker's aroundHandler, and the
 * worker's events.
 */
import * as api from '@opentelemetry/api';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { defineJob } from '../../src/jobs/define.js';
import { Dispatcher } from '../../src/queue/dispatcher.js';
import type { QueueDriver } from '../../src/queue/driver.js';
import { dispatchAround } from '../../src/telemetry/traces/dispatch-span.js';
import { tracingOn } from '../../src/telemetry/traces/index.js';
import { EXIT } from '../../src/worker/options.js';
import { idsOf, useInMemoryTracing, type ReadableSpan } from '../helpers/otel.js';
import { drivers, type Harness } from './drivers.js';
import { exitOf, pushOne, startWorker, useHarness } from './support.js';

const BOT_TOKEN = '123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1';

const tracing = tracingOn(api);
const tracer = api.trace.getTracer('test');

/**
 * A dispatcher on `driver`, traced, and `start()` for a traced worker. The worker stops when the
 * queue is empty, so a test dispatches first and starts it after: a worker started first may
 * find nothing and exit before the job is pushed.
 */
function tracedWorker(h: Harness, jobs: Parameters<typeof startWorker>[1]) {
  const dispatcher = new Dispatcher(async () => h.driver, tracing.aroundDispatch);
  const runs = tracing.runs();
  const start = () => {
    const w = startWorker(h, jobs, { stopWhenEmpty: true, sleepMs: 50 }, h.driver, {
      aroundHandler: runs.aroundHandler,
      dispatch: (job, payload, o) => dispatcher.dispatch(job, payload, o),
    });
    // Before its first claim: run() reads the control tables first.
    runs.attach(w.worker, 'conformance');
    return w;
  };
  return { dispatcher, runs, start };
}

const named = (spans: ReadableSpan[], name: string) => spans.filter((s) => s.name === name);

// Once for the file: the app's provider is registered once per process.
const exporter = useInMemoryTracing();

for (const d of drivers) {
  describe.skipIf(!d.available())(`${d.name}: traces`, () => {
    const harness = useHarness(d);

    it('runs a job in a child span of the span that dispatched it, and a job it dispatches in the same trace', async () => {
      const h = harness();
      const child = defineJob({
        name: 'trace.child',
        queue: 'default',
        async handle() {},
      });
      const parent = defineJob({
        name: 'trace.parent',
        queue: 'default',
        async handle(_p: unknown, ctx) {
          // Spans the handler starts are children of its run's span.
          await tracer.startActiveSpan('handler work', async (span) => {
            await ctx.dispatch(child, {});
            span.end();
          });
        },
      });
      const { dispatcher, start } = tracedWorker(h, [parent, child]);
      const result = await tracer.startActiveSpan('POST /signup', async (request) => {
        try {
          return await dispatcher.dispatch(parent, {});
        } finally {
          request.end();
        }
      });
      const w = start();
      expect(await exitOf(w)).toBe(EXIT.OK);
      const spans = exporter.getFinishedSpans();

      const [request] = named(spans, 'POST /signup');
      const [firstSend, secondSend] = named(spans, 'default send');
      const processes = named(spans, 'default process');
      const [work] = named(spans, 'handler work');
      expect(named(spans, 'default send')).toHaveLength(2);
      expect(processes).toHaveLength(2);
      const [parentRun, childRun] = [
        processes.find((s) => s.attributes['jobsmith.job.name'] === 'trace.parent')!,
        processes.find((s) => s.attributes['jobsmith.job.name'] === 'trace.child')!,
      ];
      const traceId = idsOf(request!).traceId;
      for (const span of [firstSend, secondSend, parentRun, childRun, work])
        expect(idsOf(span!).traceId).toBe(traceId);

      // request → send → process(parent) → handler work → send → process(child)
      expect(idsOf(firstSend!).parent).toBe(idsOf(request!).spanId);
      expect(idsOf(parentRun!).parent).toBe(idsOf(firstSend!).spanId);
      expect(idsOf(work!).parent).toBe(idsOf(parentRun!).spanId);
      expect(idsOf(secondSend!).parent).toBe(idsOf(work!).spanId);
      expect(idsOf(childRun!).parent).toBe(idsOf(secondSend!).spanId);

      expect(firstSend!.kind).toBe(SpanKind.PRODUCER);
      expect(firstSend!.attributes).toEqual({
        'messaging.system': 'jobsmith',
        'messaging.operation.type': 'send',
        'messaging.operation.name': 'send',
        'messaging.destination.name': 'default',
        'messaging.message.id': result.id,
        'jobsmith.job.name': 'trace.parent',
        'jobsmith.connection': h.driver.connection,
      });
      expect(parentRun!.kind).toBe(SpanKind.CONSUMER);
      expect(parentRun!.attributes).toEqual({
        'messaging.system': 'jobsmith',
        'messaging.operation.type': 'process',
        'messaging.operation.name': 'process',
        'messaging.destination.name': 'default',
        'messaging.message.id': result.id,
        'messaging.client.id': 'conformance',
        'jobsmith.job.name': 'trace.parent',
        'jobsmith.job.attempt': 1,
        'jobsmith.job.outcome': 'processed',
      });
      // Linked to the dispatch too, as the messaging conventions ask of a process span.
      expect(parentRun!.links.map((l) => l.context.spanId)).toEqual([idsOf(firstSend!).spanId]);
      expect(parentRun!.status.code).toBe(SpanStatusCode.UNSET);
    });

    it('marks a failed attempt with its masked exception, and gives the retry a span of its own', async () => {
      const h = harness();
      let runs = 0;
      const flaky = defineJob({
        name: 'trace.flaky',
        tries: 3,
        backoff: [0],
        async handle() {
          runs++;
          if (runs === 1) throw new Error(`Telegram said 401 for bot${BOT_TOKEN}`);
          if (runs === 2) throw new TypeError('bad input');
        },
      });
      const { dispatcher, start } = tracedWorker(h, [flaky]);
      await dispatcher.dispatch(flaky, {});
      const w = start();
      expect(await exitOf(w)).toBe(EXIT.OK);
      const spans = exporter.getFinishedSpans();
      const [send] = named(spans, 'default send');
      const attempts = named(spans, 'default process').sort(
        (a, b) =>
          (a.attributes['jobsmith.job.attempt'] as number) -
          (b.attributes['jobsmith.job.attempt'] as number),
      );
      expect(attempts.map((s) => s.attributes['jobsmith.job.attempt'])).toEqual([1, 2, 3]);
      // Every attempt continues the same dispatch.
      for (const span of attempts) expect(idsOf(span).parent).toBe(idsOf(send!).spanId);
      expect(attempts.map((s) => s.attributes['jobsmith.job.outcome'])).toEqual([
        'retried',
        'retried',
        'processed',
      ]);
      expect(attempts.map((s) => s.status)).toEqual([
        { code: SpanStatusCode.ERROR, message: 'Telegram said 401 for bot***' },
        { code: SpanStatusCode.ERROR, message: 'bad input' },
        { code: SpanStatusCode.UNSET },
      ]);
      expect(attempts[1]!.attributes['error.type']).toBe('TypeError');
      const [exception] = attempts[0]!.events;
      expect(exception!.name).toBe('exception');
      expect(exception!.attributes?.['exception.message']).toBe('Telegram said 401 for bot***');
      expect(JSON.stringify(spans.map((s) => [s.events, s.status]))).not.toContain(
        BOT_TOKEN.split(':')[1],
      );
    });

    it('records a job that fails for good, and a put-back that spends no attempt', async () => {
      const h = harness();
      const { Permanent, RetryAfter } = await import('../../src/jobs/errors.js');
      let deferred = false;
      const jobs = [
        defineJob({
          name: 'trace.broken',
          async handle() {
            throw new Permanent('the address does not exist');
          },
        }),
        defineJob({
          name: 'trace.limited',
          async handle() {
            if (!deferred) {
              deferred = true;
              throw new RetryAfter(0);
            }
          },
        }),
      ];
      const { dispatcher, start } = tracedWorker(h, jobs);
      await dispatcher.dispatch(jobs[0]!, {});
      await dispatcher.dispatch(jobs[1]!, {});
      const w = start();
      expect(await exitOf(w)).toBe(EXIT.OK);
      const spans = named(exporter.getFinishedSpans(), 'default process');
      const of = (name: string) =>
        spans
          .filter((s) => s.attributes['jobsmith.job.name'] === name)
          .map((s) => ({
            attempt: s.attributes['jobsmith.job.attempt'],
            outcome: s.attributes['jobsmith.job.outcome'],
            reason: s.attributes['jobsmith.job.fail_reason'],
            status: s.status.code,
          }));
      expect(of('trace.broken')).toEqual([
        { attempt: 1, outcome: 'failed', reason: 'error', status: SpanStatusCode.ERROR },
      ]);
      // A RetryAfter gives the attempt back: the next run is attempt 1 again, and no error.
      expect(of('trace.limited')).toEqual([
        { attempt: 1, outcome: 'deferred', reason: undefined, status: SpanStatusCode.UNSET },
        { attempt: 1, outcome: 'processed', reason: undefined, status: SpanStatusCode.UNSET },
      ]);
    });

    it('runs a job that carries no trace context in a root span, linked to nothing', async () => {
      const h = harness();
      const plain = defineJob({ name: 'conformance.noop', async handle() {} });
      const { start } = tracedWorker(h, [plain]);
      // Pushed past the hook, as by a dispatcher with telemetry off.
      const id = await pushOne(h.driver);
      const w = start();
      expect(await exitOf(w)).toBe(EXIT.OK);
      const [run] = named(exporter.getFinishedSpans(), 'default process');
      expect(run!.attributes['messaging.message.id']).toBe(id);
      expect(idsOf(run!).parent).toBeUndefined();
      expect(run!.links).toEqual([]);
    });

    it('stores no headers when no tracer provider records the dispatch', async () => {
      const h = harness();
      const seen: unknown[] = [];
      const spy: QueueDriver = Object.create(h.driver, {
        push: {
          value: (jobs: Parameters<QueueDriver['push']>[0]) => {
            seen.push(...jobs.map((j) => j.headers));
            return h.driver.push(jobs);
          },
        },
      });
      const job = defineJob({ name: 'conformance.noop', async handle() {} });
      // What a process without a tracer provider gets: the API's no-op tracer.
      const noop = new api.ProxyTracerProvider().getTracer('none');
      await new Dispatcher(async () => spy, dispatchAround(api, noop)).dispatch(job, {});
      expect(seen).toEqual([undefined]);
    });
  });
}
