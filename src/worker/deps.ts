import type { AsyncLocalStorage } from 'node:async_hooks';
import type { Knex } from 'knex';
import type { FlowControl } from '../flow/types.js';
import type { JobRegistry } from '../jobs/registry.js';
import type { DispatchFn, JobLogger } from '../jobs/types.js';
import type { ClaimedJob, QueueDriver } from '../queue/driver.js';
import type { Dispatcher } from '../queue/dispatcher.js';
import type { WorkerControl } from './control-poller.js';
import type { AroundHandler } from './executor.js';
import type { StorageInfo } from './storage-health.js';

/** What a worker works with, beside how it runs (WorkerOptions); `run queue:work` builds it. */
export interface WorkerDeps {
  driver: QueueDriver;
  registry: JobRegistry;
  /** Paused queues and the restart signal, shared by all workers. */
  control: WorkerControl;
  log: JobLogger;
  dispatch: DispatchFn;
  /** What the worker's messages call its storage. @defaultValue "the storage" */
  storage?: StorageInfo;
  /**
   * Handlers run inside this storage's context, holding their job, so that an error their code
   * throws or leaves outside their promise can be pinned on them (see handler-faults.ts).
   */
  jobContext?: AsyncLocalStorage<ClaimedJob>;
  /** Flow control for middleware (rate limits, locks, breakers) on the driver's storage. */
  flow?: FlowControl;
  /**
   * Calls each handler (see AroundHandler in executor.ts): `run queue:work` passes the tracing's
   * when TELEMETRY_ENABLED is true. None: handlers are called directly.
   */
  aroundHandler?: AroundHandler;
  /**
   * The SQL storage and a dispatcher, for the jobs of workflows (a batch's jobs and callbacks,
   * src/workflows/): read only for a job that carries a workflow header. None: such a job runs
   * as a plain one.
   */
  workflow?: WorkflowServices;
}

/** What workflow hooks (src/workflows/) work with in a worker. */
export interface WorkflowServices {
  /** The app's SQL storage. */
  db(): Promise<Knex>;
  /** Pushes callback and added jobs, on any connection. */
  dispatcher: Dispatcher;
  /** The connection the worker claims from. */
  connection: string;
}
