import { RefreshError, SnapshotRefresher } from '../snapshot/refresher.js';
import type { QueueSnapshot } from '../snapshot/snapshot.js';

/** How often the dashboard reads the queue sizes, breakers and limits: the age a page may show. */
export const SNAPSHOT_REFRESH_MS = 2_000;

export interface SnapshotSource {
  cwd: string;
  config?: string;
  connection?: string;
  refreshMs?: number;
}

/**
 * Queue sizes by state, failed counts, pauses, breakers and limits, as of at most
 * SNAPSHOT_REFRESH_MS ago: counting a million jobs takes hundreds of milliseconds (and on SQLite
 * holds the thread), so no request counts; a reader thread does, on a timer (src/snapshot), and
 * requests read the last result. The thread starts on the first request that needs it.
 */
export class DashboardSnapshot {
  private refresher?: SnapshotRefresher;
  private latest?: QueueSnapshot;
  private started?: Promise<void>;
  private lastError?: RefreshError;

  constructor(private readonly source: SnapshotSource) {}

  /** The latest snapshot; the first call waits for the first read (and rejects if it fails). */
  async get(): Promise<QueueSnapshot> {
    this.started ??= this.start();
    await this.started;
    return this.latest!;
  }

  /** After a write (a pause, a retry): read again now, so the next pages show it. */
  refreshSoon(): void {
    this.refresher?.refreshNow();
  }

  /** The last failed read, when the storage stopped answering since (cleared by a good read). */
  failure(): RefreshError | undefined {
    return this.lastError;
  }

  async close(): Promise<void> {
    await this.refresher?.stop();
  }

  private async start(): Promise<void> {
    let resolveFirst!: () => void;
    const first = new Promise<void>((resolve) => (resolveFirst = resolve));
    this.refresher = new SnapshotRefresher(
      {
        cwd: this.source.cwd,
        config: this.source.config,
        connection: this.source.connection,
        refreshMs: this.source.refreshMs ?? SNAPSHOT_REFRESH_MS,
      },
      {
        snapshot: (snapshot) => {
          this.latest = snapshot;
          this.lastError = undefined;
          resolveFirst();
        },
        failed: (error) => {
          this.lastError = error;
        },
      },
    );
    try {
      await this.refresher.start();
    } catch (error) {
      // Not started: the next request tries again.
      this.started = undefined;
      this.refresher = undefined;
      throw error;
    }
    await first;
  }
}
