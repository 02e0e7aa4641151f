import type { AsyncLocalStorage } from 'node:async_hooks';
import type { FlowControl } from '../flow/types.js';
import type { JobRegistry } from '../jobs/registry.js';
import type { DispatchFn, JobLogger } from '../jobs/types.js';
import type { ClaimedJob, QueueDriver } from '../queue/driver.js';
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
}
