import { randomBytes } from 'node:crypto';
import { databaseFlowStore } from '../flow/backends.js';
import { flowControl } from '../flow/control.js';
import type { RateLimitRule } from '../flow/rate-limits/store.js';
import type { FlowControl, FlowStore } from '../flow/types.js';
import { sleep } from '../util/sleep.js';
import type { Database } from '../db/connection.js';
import { failedJobRow, failedRecord } from '../failed/record.js';
import type { JobRegistry } from '../jobs/registry.js';
import { execute } from '../worker/executor.js';
import type {
  ClaimedJob,
  FailedJobRecord,
  JobPage,
  JobRow,
  NewJob,
  PushResult,
  QueueDriver,
  QueueSizes,
  CancelResult,
  CancelRequest,
} from './driver.js';
import { Dispatcher } from './dispatcher.js';
import { storableRecord } from './storable.js';

/**
 * Runs a dispatched job inline, in the dispatching process (development, tests): retries run
 * at once without their backoff; a final failure is recorded in failed_jobs and rethrown to the
 * caller. Nothing is ever stored as pending, so the worker-side methods have nothing to do.
 *
 * Flow control applies as on a worker, on the SQL storage: a put-back (RetryAfter, a rate limit
 * with no room) waits its time inside the dispatch, without spending an attempt. Run at once,
 * a rate-limited job would ask again and again, and each denial hands out another slot.
 */
export class SyncQueue implements QueueDriver {
  readonly connection = 'sync';
  private seq = 0;
  private readonly shutdown = new AbortController();
  private readonly dispatcher = new Dispatcher(async () => this);

  private readonly flowControl: FlowControl;

  constructor(
    private readonly deps: {
      db: Database;
      registry: JobRegistry;
      /** The config's rate limits, checked. @defaultValue none */
      rateLimits?: ReadonlyMap<string, RateLimitRule>;
    },
  ) {
    this.flowControl = flowControl(this, deps.rateLimits ?? new Map(), (event) =>
      consoleLog.info(event.type, event),
    );
  }

  async push(jobs: NewJob[]): Promise<PushResult[]> {
    const results: PushResult[] = [];
    for (const job of jobs) {
      const id = `sync-${process.pid}-${++this.seq}`;
      await this.run({ ...job, id });
      results.push({ id, deduplicated: false });
    }
    return results;
  }

  private async run(job: NewJob & { id: string }): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const claimed: ClaimedJob = {
        ...job,
        attempts: attempt,
        token: randomBytes(4).toString('hex'),
      };
      const { decision, definition, payload, context } = await execute(claimed, {
        registry: this.deps.registry,
        shutdown: this.shutdown.signal,
        stuckGraceMs: 1000,
        log: consoleLog,
        dispatch: (j, p, o) => this.dispatcher.dispatch(j, p, o),
        flow: this.flowControl,
      });
      // A skipped job (skipIf) is done as a completed one is: nothing to record.
      if (decision.action === 'complete' || decision.action === 'skip') return;
      if (decision.action === 'retry') {
        if (decision.refund) {
          attempt--;
          await sleep(decision.delayMs, this.shutdown.signal);
        }
        continue;
      }
      const error = decision.error;
      const reason = decision.action === 'fail' ? decision.reason : 'error';
      await this.recordFailure(failedRecord(this.connection, claimed, reason, error));
      if (definition?.failed && context) await definition.failed(payload, error, context);
      throw error;
    }
  }

  private async recordFailure(record: FailedJobRecord): Promise<void> {
    await this.deps.db.knex('failed_jobs').insert(failedJobRow(storableRecord(record), Date.now()));
  }

  async claim(): Promise<ClaimedJob[]> {
    return [];
  }
  async extend(): Promise<string[]> {
    return [];
  }
  async complete(): Promise<string[]> {
    return [];
  }
  async markAlone(): Promise<boolean> {
    return false;
  }
  async release(): Promise<boolean> {
    return false;
  }
  async fail(): Promise<boolean> {
    return false;
  }
  async waitForJobs(_q: string[], timeoutMs: number, signal: AbortSignal): Promise<void> {
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, timeoutMs);
      signal.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
    });
  }
  async sizes(queues: string[]): Promise<QueueSizes[]> {
    return queues.map((queue) => ({ queue, pending: 0, delayed: 0, reserved: 0 }));
  }
  async queues(): Promise<string[]> {
    return [];
  }
  async list(): Promise<JobRow[]> {
    return [];
  }
  async listPage(): Promise<JobPage> {
    return { jobs: [], next: null };
  }
  async clear(): Promise<number> {
    return 0;
  }
  /** A sync job runs within its dispatch: there is never one left to cancel. */
  async cancel(): Promise<CancelResult> {
    return { removed: [], requested: [] };
  }
  async cancelRequests(): Promise<CancelRequest[]> {
    return [];
  }
  async forgetCancels(): Promise<void> {}
  // A sync job runs inside its dispatch and is never stored: there is no live job to act on.
  async find(): Promise<JobRow | null> {
    return null;
  }
  async promote(): Promise<string[]> {
    return [];
  }
  async remove(): Promise<string[]> {
    return [];
  }
  async progress(): Promise<boolean> {
    return false;
  }
  private flowStore?: { store: FlowStore; close(): void };

  /** The SQL storage's flow control: a sync job shares limits with the workers on it. */
  flow(): FlowStore {
    this.flowStore ??= databaseFlowStore(this.deps.db);
    return this.flowStore.store;
  }

  async close(): Promise<void> {
    this.shutdown.abort();
    this.flowStore?.close();
  }
}

const consoleLog = {
  debug: () => {},
  // stderr, as every line a handler logs: stdout carries a command's result (--json).
  info: (msg: string, extra?: Record<string, unknown>) => console.error(msg, extra ?? ''),
  warn: (msg: string, extra?: Record<string, unknown>) => console.warn(msg, extra ?? ''),
  error: (msg: string, extra?: Record<string, unknown>) => console.error(msg, extra ?? ''),
};
