/**
 * Traces the way a user gets them: TELEMETRY_ENABLED=true, @opentelemetry/api installed, and a
 * tracer provider registered in jobsmith.config.ts (here one whose exporter appends each span to
 * a file). `run queue:dispatch` in one process, `run queue:work` in another: the run's span is a
 * child of the dispatch's, in one trace, and the worker's log lines carry its ids. With
 * TELEMETRY_ENABLED=false nothing is traced and jobs carry no headers.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { APP_BACKENDS, createApp, describeBackend, type TestApp } from './helpers/app.js';

const SLOW = 60_000;

const here = createRequire(import.meta.url);
const API = here.resolve('@opentelemetry/api');
const SDK = here.resolve('@opentelemetry/sdk-trace-base');
const CONTEXT = here.resolve('@opentelemetry/context-async-hooks');

// An app's own set-up of OpenTelemetry, with an exporter that writes spans to SPANS_FILE.
const CONFIG = `
import { appendFileSync } from 'node:fs';
import { defineConfig, defineJob } from 'jobsmith';
import { context, trace } from ${JSON.stringify(API)};
import { BasicTracerProvider, SimpleSpanProcessor } from ${JSON.stringify(SDK)};
import { AsyncLocalStorageContextManager } from ${JSON.stringify(CONTEXT)};

const exporter = {
  export(spans, done) {
    for (const s of spans) {
      const { traceId, spanId } = s.spanContext();
      const span = { name: s.name, kind: s.kind, pid: process.pid, traceId, spanId,
        parent: s.parentSpanContext?.spanId, attributes: s.attributes };
      appendFileSync(process.env.SPANS_FILE, JSON.stringify(span) + '\\n');
    }
    done({ code: 0 });
  },
  shutdown: async () => {},
};
trace.setGlobalTracerProvider(
  new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }),
);
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());

export const hello = defineJob({
  name: 'hello',
  queue: 'mail',
  async handle(p, ctx) {
    ctx.log.info('hello from the handler');
  },
});
export default defineConfig({ jobs: [hello] });
`;

interface ExportedSpan {
  name: string;
  kind: number;
  pid: number;
  traceId: string;
  spanId: string;
  parent?: string;
  attributes: Record<string, unknown>;
}

for (const backend of APP_BACKENDS) {
  describeBackend(backend, 'traces across processes', () => {
    let app: TestApp;
    beforeEach(async () => {
      app = await createApp(backend, CONFIG);
    }, SLOW);
    afterEach(() => app?.cleanup());

    const spansFile = () => path.join(app.cwd, 'spans.jsonl');
    const ok = async (args: string[], enabled: boolean) => {
      const env = { TELEMETRY_ENABLED: String(enabled), SPANS_FILE: spansFile() };
      // A process each, as users run them: the spans must cross processes, and a tracer
      // provider is registered once per process (the CLI host would keep the first).
      const result = await app.run(args, { env, spawn: true });
      expect(result.code, result.stderr).toBe(0);
      return result;
    };

    it(
      "runs the job in a child span of its dispatch's, from another process",
      async () => {
        await ok(['queue:dispatch', 'hello', '--payload', '{}'], true);
        const worked = await ok(
          ['queue:work', '--queue', 'mail', '--stop-when-empty', '--json'],
          true,
        );
        const spans = readFileSync(spansFile(), 'utf8')
          .trimEnd()
          .split('\n')
          .map((l) => JSON.parse(l) as ExportedSpan);
        expect(spans.map((s) => s.name).sort()).toEqual(['mail process', 'mail send']);
        const send = spans.find((s) => s.name === 'mail send')!;
        const run = spans.find((s) => s.name === 'mail process')!;
        expect(run.pid).not.toBe(send.pid);
        expect(run.traceId).toBe(send.traceId);
        expect(run.parent).toBe(send.spanId);
        expect(send.parent).toBeUndefined();
        expect(run.attributes).toMatchObject({
          'messaging.system': 'jobsmith',
          'messaging.destination.name': 'mail',
          'messaging.operation.type': 'process',
          'messaging.message.id': send.attributes['messaging.message.id'],
          'jobsmith.job.attempt': 1,
          'jobsmith.job.outcome': 'processed',
        });

        // The worker's lines about the job, and the handler's own, carry the run's ids.
        const lines = readFileSync(path.join(app.cwd, 'storage/logs/app.log'), 'utf8')
          .trimEnd()
          .split('\n')
          .map((l) => JSON.parse(l) as Record<string, unknown>);
        const ids = { trace_id: run.traceId, span_id: run.spanId };
        expect(lines.find((l) => l.event === 'job:processed')).toMatchObject(ids);
        expect(lines.find((l) => l.msg === 'hello from the handler')).toMatchObject(ids);
        // So do the --json lines a script reads.
        const events = worked.stdout
          .trimEnd()
          .split('\n')
          .map((l) => JSON.parse(l) as Record<string, unknown>);
        expect(events.find((e) => e.event === 'job:processed')).toMatchObject(ids);
      },
      SLOW,
    );

    it(
      'traces nothing and stores no headers with TELEMETRY_ENABLED=false',
      async () => {
        await ok(['queue:dispatch', 'hello', '--payload', '{}'], false);
        if (backend !== 'redis') {
          const { knex } = await app.db();
          expect(await knex('jobs').select('headers')).toEqual([{ headers: null }]);
        }
        const worked = await ok(['queue:work', '--queue', 'mail', '--stop-when-empty'], false);
        expect(worked.stdout).toMatch(/ hello #\S+ DONE /);
        expect(existsSync(spansFile())).toBe(false);
        const log = readFileSync(path.join(app.cwd, 'storage/logs/app.log'), 'utf8');
        expect(log).not.toContain('trace_id');
      },
      SLOW,
    );
  });
}
