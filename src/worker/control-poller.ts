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
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
