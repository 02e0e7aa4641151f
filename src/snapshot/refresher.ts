/*
 * The main thread's side of refresh-thread.ts: starts the reader thread, hands each snapshot
 * and each failed read on, and starts the thread again should it die.
 */
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { JobsmithError } from '../errors.js';
import type { RefreshThreadData } from './refresh-thread.js';
import type { QueueSnapshot } from './snapshot.js';

/** A read of the storage that failed in the reader thread, as it reported it. */
export class RefreshError extends JobsmithError {}

export interface RefreshHandlers {
  snapshot(snapshot: QueueSnapshot): void;
  /** A read failed (the thread reads again after refreshMs), or the thread died. */
  failed(error: RefreshError): void;
}

type Message =
  | { type: 'snapshot'; snapshot: QueueSnapshot }
  | { type: 'error'; error: { name: string; message: string; hint?: string } };

export class SnapshotRefresher {
  private thread?: Worker;
  private stopping = false;
  private restart?: NodeJS.Timeout;

  constructor(
    private readonly data: RefreshThreadData,
    private readonly handlers: RefreshHandlers,
  ) {}

  /**
   * Starts the thread; resolves with its first snapshot, or rejects with its first error (the
   * storage cannot be read at all: the command says so and exits 1) and stops it.
   */
  async start(): Promise<void> {
    const first = new Promise<void>((resolve, reject) => {
      this.spawn((m) => {
        if (m.type === 'snapshot') resolve();
        else reject(asError(m.error));
      });
    });
    try {
      await first;
    } catch (error) {
      await this.stop();
      throw error;
    }
  }

  /** Asks for a read now rather than at the next tick (none when one is under way). */
  refreshNow(): void {
    this.thread?.postMessage('refresh');
  }

  /** Asks the thread to finish its read and close the storage; waits for it (at most 10 s). */
  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restart);
    const thread = this.thread;
    if (!thread) return;
    const exited = once(thread, 'exit');
    thread.postMessage('stop');
    const late = setTimeout(() => void thread.terminate(), 10_000);
    await exited;
    clearTimeout(late);
  }

  private spawn(first?: (m: Message) => void): void {
    const thread = new Worker(new URL('./refresh-thread.js', import.meta.url), {
      workerData: this.data,
    });
    this.thread = thread;
    let firstPending = first;
    // The first message settles start(); a first error is start()'s to report, not failed()'s.
    const settleFirst = (m: Message): boolean => {
      const settle = firstPending;
      firstPending = undefined;
      settle?.(m);
      return settle !== undefined && m.type === 'error';
    };
    thread.on('message', (m: Message) => {
      if (settleFirst(m)) return;
      if (m.type === 'snapshot') this.handlers.snapshot(m.snapshot);
      else this.handlers.failed(asError(m.error));
    });
    thread.on('error', (error) => {
      const message = `The queue-state reader stopped: ${error.message}`;
      if (settleFirst({ type: 'error', error: { name: error.name, message } })) return;
      this.handlers.failed(new RefreshError(message));
    });
    thread.on('exit', () => {
      if (this.thread !== thread) return;
      this.thread = undefined;
      if (this.stopping) return;
      // Died (it never ends on its own): start another after a pause.
      this.restart = setTimeout(() => this.spawn(), this.data.refreshMs);
    });
  }
}

function asError(e: { name: string; message: string; hint?: string }): RefreshError {
  return new RefreshError(e.message, { hint: e.hint });
}
