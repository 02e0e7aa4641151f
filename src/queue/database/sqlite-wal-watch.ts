import { watch, type FSWatcher } from 'node:fs';

/**
 * Tells an idle SQLite worker that another process may have committed, without waiting for its
 * next poll. In WAL mode every commit appends to the `-wal` file beside the database, so a file
 * watch on it (inotify on Linux, kqueue or FSEvents on macOS, ReadDirectoryChangesW on Windows)
 * fires within a fraction of a millisecond of any process's commit, whatever it wrote.
 *
 * A hint, never the truth: the listener checks `PRAGMA data_version` itself, and the driver keeps
 * polling it (a slower safety net), because a watch can be missing or silent: a filesystem
 * without notifications (NFS, some container mounts), the watch limit reached, a WAL file
 * replaced under it. A watch that fails is closed and not tried again; polling alone goes on.
 *
 * Opened on the first wait and kept (one inotify watch per driver), without holding the process
 * open. Events that come while nobody waits cost a callback each and are dropped.
 */
export class WalWatch {
  private watcher?: FSWatcher;
  private failed = false;
  private readonly listeners = new Set<() => void>();

  /** @param filename the database file; its `-wal` file is watched. */
  constructor(private readonly filename: string) {}

  /**
   * Calls `listener` after each write to the WAL until the returned function is called. Returns
   * whether the watch is up (false: polling alone will notice commits).
   */
  listen(listener: () => void): { active: boolean; stop: () => void } {
    this.open();
    this.listeners.add(listener);
    return { active: this.watcher !== undefined, stop: () => this.listeners.delete(listener) };
  }

  close(): void {
    this.watcher?.close();
    this.watcher = undefined;
    this.listeners.clear();
  }

  private open(): void {
    if (this.watcher || this.failed) return;
    try {
      this.watcher = watch(`${this.filename}-wal`, { persistent: false }, () => this.fire());
      this.watcher.on('error', () => this.fail());
    } catch {
      this.fail();
    }
  }

  private fail(): void {
    this.failed = true;
    this.watcher?.close();
    this.watcher = undefined;
  }

  private fire(): void {
    for (const listener of [...this.listeners]) listener();
  }
}

/** A wake this long after the last one starts the pacing over. */
const QUIET_MS = 1000;

/**
 * Paces the wakes a WAL watch gives, so that another process's steady stream of commits that
 * bring this worker nothing (jobs of other queues, other tables) cannot make it claim after
 * each: after a wake whose claim found nothing the next waits 1 ms from it, then 2, 4... up to
 * the poll interval, where polling alone would be. A claim that finds jobs, or a quiet second,
 * starts over at no wait, so a lone commit is always noticed at once.
 */
export class WakePacer {
  private empty = 0;
  private lastWake = -Infinity;
  private pending = false;

  constructor(private readonly maxGapMs: number) {}

  /** How long to wait, ms, before acting on a write seen now. */
  delay(now = performance.now()): number {
    if (now - this.lastWake > QUIET_MS) this.empty = 0;
    if (this.empty === 0) return 0;
    const gap = Math.min(this.maxGapMs, 2 ** (this.empty - 1));
    return Math.max(0, this.lastWake + gap - now);
  }

  /** A wait ended because another process committed. */
  woke(now = performance.now()): void {
    this.lastWake = now;
    this.pending = true;
  }

  /** The claim that followed a wake found `count` jobs. */
  claimed(count: number): void {
    if (!this.pending) return;
    this.pending = false;
    this.empty = count > 0 ? 0 : this.empty + 1;
  }
}
