/**
 * A GPT app for in-process tests: a scratch app (test/helpers/app.ts) whose config has a `gpt`
 * section, the fake OpenAI server (test/doubles/openai) it talks to through OPENAI_BASE_URL, and
 * a worker of the `gpt` queue running in this process, wired as `run queue:work` wires it (the
 * App's registry, its queue driver, flow control on the driver's storage). The config's
 * `onResult` hook and its `summary.save` job push what they get to arrays on globalThis.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { App } from '../src/cli/app.js';
import { queuePolicy } from '../src/config/queue-policies.js';
import { flowControl } from '../src/flow/control.js';
import type { GptResult } from '../src/config/define.js';
import { pausedQueues, restartRequestedAt } from '../src/queue/control.js';
import type { RequestRow } from '../src/gpt/requests-store.js';
import { findRequest } from '../src/gpt/requests-store.js';
import type { FlowEvent } from '../src/flow/events.js';
import type { WorkerEvents } from '../src/worker/events.js';
import { Worker } from '../src/worker/worker.js';
import { createApp, type AppBackend, type TestApp } from './helpers/app.js';
import { startFakeOpenAi, type FakeOpenAi } from './doubles/openai/index.js';
import { waitFor } from './helpers/wait.js';

export const GPT_CONFIG = `
import { defineConfig, defineJob } from 'jobsmith';

const saved = defineJob({
  name: 'summary.save',
  queue: 'gpt',
  handle(result) { (globalThis as any).__gptSaved?.push(result); },
});

// The payloads' onRetry and onFailure jobs push what they get to the same array.
const retried = defineJob({
  name: 'summary.retried',
  queue: 'gpt',
  handle(retry) { (globalThis as any).__gptSaved?.push({ retried: retry }); },
});
const failed = defineJob({
  name: 'summary.failed',
  queue: 'gpt',
  handle(failure) { (globalThis as any).__gptSaved?.push({ failed: failure }); },
});

export default defineConfig({
  jobs: [saved, retried, failed],
  gpt: {
    breaker: { failures: 3, window: '1m', cooldown: '1s' },
    onResult: (result) => { (globalThis as any).__gptHook?.push(result); },
  },
  queues: { gpt: { backoff: 0.05, concurrency: 4 } },
});
`;

/** Per attempt, so the slow reply's test is quick. */
export const OPENAI_TIMEOUT_MS = 400;

type Store = typeof globalThis & { __gptSaved?: unknown[]; __gptHook?: GptResult[] };

export interface GptApp {
  test: TestApp;
  api: FakeOpenAi;
  app: App;
  /**
   * What the `summary.save` job and the config's hook received, in order; the `summary.retried`
   * and `summary.failed` jobs push `{ retried }` and `{ failed }` here too.
   */
  saved: unknown[];
  hooked: GptResult[];
  /** Flow events (breaker transitions) and failed jobs the worker reported. */
  flowEvents: FlowEvent[];
  failed: Array<WorkerEvents['job:failed'][0]>;
  /** Stores a gpt.complete job; resolves with its id. */
  ask(payload: Record<string, unknown>, options?: { tries?: number }): Promise<string>;
  /** Waits until the job's row is succeeded or failed. */
  settled(jobId: string, timeoutMs?: number): Promise<RequestRow>;
  cleanup(): Promise<void>;
}

export async function createGptApp(backend: AppBackend): Promise<GptApp> {
  const test = await createApp(backend, GPT_CONFIG);
  const api = await startFakeOpenAi();
  const env: Record<string, string | undefined> = {
    ...test.env,
    OPENAI_API_KEY: api.apiKey,
    OPENAI_BASE_URL: api.baseURL,
    OPENAI_MODEL: 'fake-model',
    OPENAI_TIMEOUT: `${OPENAI_TIMEOUT_MS}ms`,
    LOG_LEVEL: 'silent',
  };
  // The App reads .env under the real environment, as `run` does.
  const lines = Object.entries(env).filter(([, v]) => v !== undefined);
  writeFileSync(path.join(test.cwd, '.env'), lines.map(([k, v]) => `${k}=${v}`).join('\n'));
  const store = globalThis as Store;
  const saved: unknown[] = (store.__gptSaved = []);
  const hooked: GptResult[] = (store.__gptHook = []);
  const app = new App(test.cwd);
  const registry = await app.registry();
  const driver = await app.queues().get();
  const db = await app.db();
  const { config, rateLimits } = await app.config();
  const flowEvents: FlowEvent[] = [];
  const failed: GptApp['failed'] = [];
  const quiet = () => {};
  // eslint-disable-next-line prefer-const -- the flow's emit needs the worker made below
  let worker: Worker;
  const flow = flowControl(driver, rateLimits, (event) => {
    flowEvents.push(event);
    worker.emit(event.type, event as never);
  });
  const dispatcher = app.dispatcher();
  worker = new Worker(
    {
      queues: ['gpt'],
      concurrency: 4,
      once: false,
      stopWhenEmpty: false,
      sleepMs: 50,
      restMs: 0,
      leaseMs: 10_000,
      graceMs: 2_000,
      stuckGraceMs: 1_000,
      name: 'gpt-test',
      queuePolicies: new Map([['gpt', queuePolicy('gpt', config.queues?.gpt, app.rawEnv)]]),
    },
    {
      driver,
      flow,
      registry,
      control: {
        pausedQueues: () => pausedQueues(db.knex),
        restartRequestedAt: () => restartRequestedAt(db.knex),
      },
      log: { debug: quiet, info: quiet, warn: quiet, error: quiet },
      dispatch: (job, payload, o) =>
        dispatcher.dispatch(job, payload, { connection: driver.connection, ...o }),
    },
  );
  worker.on('job:failed', (e) => failed.push(e));
  const exited = worker.run();
  const job = registry.get('gpt.complete')!;
  return {
    test,
    api,
    app,
    saved,
    hooked,
    flowEvents,
    failed,
    async ask(payload, options = {}) {
      return (await dispatcher.dispatch(job, payload, options)).id;
    },
    settled: (jobId, timeoutMs = 10_000) =>
      waitFor<RequestRow | undefined>(
        async () => {
          const row = await findRequest(db, jobId);
          return row && (row.status === 'succeeded' || row.status === 'failed') ? row : undefined;
        },
        { timeoutMs, message: `gpt.complete job ${jobId} did not finish` },
      ) as Promise<RequestRow>,
    async cleanup() {
      worker.stop();
      worker.stop();
      await exited;
      await app.close();
      await api.close();
      await test.cleanup();
    },
  };
}
