import { toError } from './executor.js';

/** Where workers read the shared control state (SQL storage for every driver). */
export interface WorkerControl {
  pausedQueues(): Promise<Set<string>>;
  restartRequestedAt(): Promise<number>;
}

/** Reads paused queues and the restart signal about once a second. */
export class ControlPoller {
  paused = new Set<string>();
  restartRequested = false;
  private baseline = 0;
  private timer?: NodeJS.Timeout;
  /** More work on the same tick (cancel requests), each failing on its own. */
  private readonly tasks: Array<() => Promise<void>> = [];

  constructor(
    private readonly control: WorkerControl,
    private readonly onError: (error: Error) => void,
    private readonly intervalMs = 1000,
  ) {}

  async start(): Promise<void> {
    // A restart requested before this worker started is not meant for it.
    this.baseline = await this.control.restartRequestedAt();
    this.paused = await this.control.pausedQueues();
    this.timer = setInterval(() => void this.poll(), this.intervalMs);
    this.timer.unref();
  }

  private async poll(): Promise<void> {
    try {
      this.paused = await this.control.pausedQueues();
      if ((await this.control.restartRequestedAt()) > this.baseline) this.restartRequested = true;
    } catch (error) {
      this.onError(toError(error));
    }
    for (const task of this.tasks) await task().catch((error) => this.onError(toError(error)));
  }

  /** Runs `task` on every poll too: one timer for the worker's once-a-second duties. */
  also(task: () => Promise<void>): void {
    this.tasks.push(task);
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
