import type { FlowEvents } from '../flow/events.js';
import type { ClaimedJob, FailReason } from '../queue/driver.js';
import type { WorkerCaps } from './queue-slots.js';

/** Events a worker emits; commands render them, the worker never prints. */
export interface WorkerEvents extends FlowEvents {
  /** `caps`: the queues' caps this worker keeps, if any (docs/concurrency.md). */
  'worker:started': [{ name: string; queues: string[]; concurrency: number; caps?: WorkerCaps }];
  /**
   * The worker stops claiming. `error` says why when the reason is a failure (`storage`,
   * `uncaught`); `paused` lists, for `paused`, the queues that are paused and the jobs waiting
   * on them.
   */
  'worker:stopping': [
    { reason: StopReason; error?: Error; paused?: { queues: string[]; waiting: number } },
  ];
  'worker:stopped': [{ reason: StopReason; exitCode: number; processed: number }];
  'worker:paused': [{ by: 'signal' }];
  'worker:resumed': [{ by: 'signal' }];
  /**
   * Something failed that the worker rides out: the storage (a claim, a settle being retried,
   * a heartbeat), a job's failed() hook, a promise a job left rejected with nobody to handle it.
   */
  'worker:error': [{ error: Error; during: string }];
  /**
   * The job came back from a lost lease (its worker died or hung while it ran): it waits to run
   * alone, after the jobs running now (src/worker/isolation.ts).
   */
  'job:isolated': [{ job: ClaimedJob }];
  'job:processing': [{ job: ClaimedJob }];
  /**
   * `result`: what the handler returned (undefined when nothing), for history (job_history).
   * `progress`, here and on job:failed and job:cancelled: the last `ctx.progress` value this
   * attempt reported (JSON text), undefined when it reported none.
   */
  'job:processed': [{ job: ClaimedJob; durationMs: number; result?: unknown; progress?: string }];
  /**
   * The job was cancelled while it ran (`queue:cancel`): its signal aborted, it ended
   * `cancelled`, not failed and not retried. `reason` is the cancel's message.
   */
  'job:cancelled': [{ job: ClaimedJob; durationMs: number; reason: string; progress?: string }];
  /**
   * A middleware (skipIf) dropped the job before its handler ran: it was deleted, not failed.
   * `reason` is the string skipIf's function returned, if it returned one.
   */
  'job:skipped': [{ job: ClaimedJob; durationMs: number; reason?: string }];
  'job:released': [
    { job: ClaimedJob; durationMs: number; delayMs: number; error: Error; refunded: boolean },
  ];
  'job:failed': [
    { job: ClaimedJob; durationMs: number; reason: FailReason; error: Error; progress?: string },
  ];
  /** Shutdown past grace, or a lost lease: the job was put back (or another worker has it). */
  'job:abandoned': [{ job: ClaimedJob; durationMs: number; error: Error }];
  /** The settling write found the lease taken by another claim: nothing was changed. */
  'job:lost': [{ job: ClaimedJob }];
  'job:stuck': [{ job: ClaimedJob; error: Error }];
}

/**
 * Why a worker stopped: `paused` is --stop-when-empty with nothing to claim because the queues
 * with jobs are paused; `storage` a storage failure (exit 14); `uncaught` an exception a job's
 * code threw outside its promise (exit 15).
 */
export type StopReason =
  | 'signal'
  | 'once'
  | 'empty'
  | 'paused'
  | 'max-jobs'
  | 'max-time'
  | 'memory'
  | 'restart'
  | 'stuck'
  | 'storage'
  | 'uncaught';
