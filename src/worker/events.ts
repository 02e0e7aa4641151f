import type { ClaimedJob, FailReason } from '../queue/driver.js';

/** Events a worker emits; commands render them, the worker never prints. */
export interface WorkerEvents {
  'worker:started': [{ name: string; queues: string[]; concurrency: number }];
  'worker:stopping': [{ reason: StopReason }];
  'worker:stopped': [{ reason: StopReason; exitCode: number; processed: number }];
  'worker:paused': [{ by: 'signal' }];
  'worker:resumed': [{ by: 'signal' }];
  /** Storage failed (a claim, a settle, a heartbeat); the worker keeps going. */
  'worker:error': [{ error: Error; during: string }];
  'job:processing': [{ job: ClaimedJob }];
  'job:processed': [{ job: ClaimedJob; durationMs: number }];
  'job:released': [
    { job: ClaimedJob; durationMs: number; delayMs: number; error: Error; refunded: boolean },
  ];
  'job:failed': [{ job: ClaimedJob; durationMs: number; reason: FailReason; error: Error }];
  /** Shutdown past grace, or a lost lease: the job was put back (or another worker has it). */
  'job:abandoned': [{ job: ClaimedJob; durationMs: number; error: Error }];
  /** The settling write found the lease taken by another claim: nothing was changed. */
  'job:lost': [{ job: ClaimedJob }];
  'job:stuck': [{ job: ClaimedJob; error: Error }];
}

export type StopReason =
  'signal' | 'once' | 'empty' | 'max-jobs' | 'max-time' | 'memory' | 'restart' | 'stuck';
