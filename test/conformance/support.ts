/**
 * Shared pieces of the conformance suite: one fresh harness per test, NewJob rows, an
 * in-process Worker wired the way `run queue:work` wires it, and failed_jobs reads.
 */
import { afterEach, beforeEach, expect } from 'vitest';
import { DatabaseFailedJobStore, type FailedJob } from '../../src/failed/store.js';
import { flowControl } from '../../src/flow/control.js';
import type { JobDefinition } from '../../src/jobs/types.js';
import { JobRegistry } from '../../src/jobs/registry.js';
import { pausedQueues, restartRequestedAt } from '../../src/queue/control.js';
import { Dispatcher } from '../../src/queue/dispatcher.js';
import type { ClaimedJob, NewJob, QueueDriver } from '../../src/queue/driver.js';
import type { WorkerEvents } from '../../src/worker/events.js';
import type { WorkerOptions } from '../../src/worker/options.js';
import { Worker, type WorkerDeps } from '../../src/worker/worker.js';
import { waitFor } from '../helpers/wait.js';
import type { DriverFactory, Harness } from './drivers.js';

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Registers a fresh harness for every test of the enclosing describe and returns its getter.
 * Workers started with startWorker() are stopped before the storage goes away.
 */
export function useHarness(factory: DriverFactory): () => Harness {
  let current: Harness | undefined;
  beforeEach(async () => {
    current = await factory.setup();
  });
  afterEach(async () => {
    const errors = await stopAllWorkers();
    await current?.teardown();
    current = undefined;
    // A storage error inside a worker (claim, settle, heartbeat) is a failure of the driver.
    expect(errors.map((e) => `${e.during}: ${e.error.message}`)).toEqual([]);
  });
  return () => {
    if (!current) throw new Error('no harness: call inside a test');
    return current;
  };
}

/** A row as `dispatch` would build it, on queue `default` unless told otherwise. */
export function newJob(overrides: Partial<NewJob> = {}): NewJob {
  return {
    name: 'conformance.noop',
    queue: 'default',
    payload: '{}',
    priority: 0,
    maxTries: 3,
    delayMs: 0,
    ...overrides,
  };
}

/** Pushes one job and returns its id. */
export async function pushOne(driver: QueueDriver, overrides: Partial<NewJob> = {}) {
  const [result] = await driver.push([newJob(overrides)]);
  return result!.id;
}

/** Claims the next job of `queue` as soon as one is claimable (bounded by `timeoutMs`). */
export async function claimWhenReady(
  driver: QueueDriver,
  { queue = 'default', leaseMs = 5_000, timeoutMs = 3_000 } = {},
): Promise<ClaimedJob> {
  const claimed = await waitFor(
    async () => {
      const [job] = await driver.claim([queue], 1, leaseMs);
      return job ?? false;
    },
    { timeoutMs, intervalMs: 20, message: `no job became claimable on ${queue}` },
  );
  return claimed as ClaimedJob;
}

export function failedJobs(h: Harness, filter: { queue?: string; name?: string } = {}) {
  return new DatabaseFailedJobStore(h.knex).page(filter, 0, 100);
}

/** The one failed_jobs row, once there is one. */
export async function waitForFailed(h: Harness, timeoutMs = 5_000): Promise<FailedJob> {
  const row = await waitFor(async () => (await failedJobs(h))[0] ?? false, {
    timeoutMs,
    message: 'no failed job was recorded',
  });
  return row as FailedJob;
}

type EventName = keyof WorkerEvents;
type Recorded = { [K in EventName]: { name: K; data: WorkerEvents[K][0]; at: number } }[EventName];

export interface RunningWorker {
  worker: Worker;
  /** Every event the worker emitted, in order. */
  events: Recorded[];
  /** Payloads of the events named `name`. */
  of<K extends EventName>(name: K): Array<WorkerEvents[K][0]>;
  /** Resolves with the worker's exit code. */
  exited: Promise<number>;
}

/** Every worker started in the current test, running or not. */
const started: RunningWorker[] = [];

/**
 * Stops every worker of the test still running (hard stop), waits, bounded, for each to exit,
 * and returns the worker:error events they emitted.
 */
async function stopAllWorkers(): Promise<Array<WorkerEvents['worker:error'][0]>> {
  const all = started.splice(0);
  for (const w of all) {
    w.worker.stop();
    w.worker.stop();
  }
  await Promise.race([Promise.allSettled(all.map((w) => w.exited)), sleep(5_000)]);
  return all.flatMap((w) => w.of('worker:error'));
}

export const WORKER_DEFAULTS: WorkerOptions = {
  queues: ['default'],
  concurrency: 1,
  once: false,
  stopWhenEmpty: false,
  sleepMs: 100,
  restMs: 0,
  leaseMs: 1_000,
  graceMs: 5_000,
  stuckGraceMs: 300,
  name: 'conformance',
};

/**
 * Starts an in-process Worker on `driver` (the harness's own unless given) with the control
 * state in the harness's SQL storage, as `run queue:work` does. `deps` adds to (or replaces)
 * what the worker is given: `flow` for flow-control middleware.
 */
export function startWorker(
  h: Harness,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  jobs: JobDefinition<any>[],
  options: Partial<WorkerOptions> = {},
  driver: QueueDriver = h.driver,
  deps: Partial<WorkerDeps> = {},
): RunningWorker {
  const dispatcher = new Dispatcher(async () => driver);
  const quiet = () => {};
  const worker = new Worker(
    { ...WORKER_DEFAULTS, ...options },
    {
      driver,
      // As run queue:work gives it: flow control on the driver's own storage.
      flow: flowControl(driver, new Map(), () => {}),
      registry: new JobRegistry(jobs),
      control: {
        pausedQueues: () => pausedQueues(h.knex),
        restartRequestedAt: () => restartRequestedAt(h.knex),
      },
      log: { debug: quiet, info: quiet, warn: quiet, error: quiet },
      dispatch: (job, payload, o) => dispatcher.dispatch(job, payload, o),
      ...deps,
    },
  );
  const events: Recorded[] = [];
  const names: EventName[] = [
    'worker:started',
    'worker:stopping',
    'worker:stopped',
    'worker:error',
    'job:processing',
    'job:processed',
    'job:skipped',
    'job:released',
    'job:failed',
    'job:abandoned',
    'job:lost',
    'job:stuck',
    'job:isolated',
  ];
  for (const name of names) {
    worker.on(name, ((data: never) =>
      events.push({ name, data, at: Date.now() } as Recorded)) as never);
  }
  const running: RunningWorker = {
    worker,
    events,
    of: <K extends EventName>(name: K) =>
      events.filter((e) => e.name === name).map((e) => e.data as WorkerEvents[K][0]),
    exited: worker.run(),
  };
  started.push(running);
  return running;
}

/** The worker's exit code, failing the test if it does not exit within `timeoutMs`. */
export async function exitOf(w: RunningWorker, timeoutMs = 10_000): Promise<number> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      w.exited,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`the worker did not exit within ${timeoutMs} ms`)),
          timeoutMs,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
