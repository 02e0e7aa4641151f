import type { Redis } from 'ioredis';

/** 10 seconds is the longest a BZPOPMIN should block (BullMQ's limit, for reconnections). */
const MAX_BLOCK_S = 10;
/** Below this, Redis older than 7.0.8 may round a timeout down to 0, which blocks for ever. */
const MIN_BLOCK_S = 0.01;
/** After a failed BZPOPMIN (Redis down), wait on timers alone for this long. */
const BACKOFF_MS = 1000;

/**
 * How an idle worker waits for jobs: like a BullMQ Worker, by blocking on the queues' marker
 * keys, which BullMQ's scripts set whenever a job becomes ready (member "0") or a delayed job is
 * next due (member "1", scored with its due time). One BZPOPMIN covers the markers of all the
 * worker's queues, on a connection of its own, so a push wakes the worker within a round trip.
 *
 * BZPOPMIN takes the marker, so whoever pops a delayed job's marker must wake up at its due
 * time: those times are kept here, as BullMQ's Worker keeps its `blockUntil`. Markers that
 * arrive while nobody waits (a wait aborted because a job finished) are kept for the next wait.
 * A wait always ends at its timeout, so a lost marker only delays a job to the next poll.
 */
export class MarkerWait {
  private client?: Promise<Redis>;
  private pending?: { since: number; limitMs: number; client: Promise<Redis> };
  private failedAt = 0;
  private closed = false;
  /** Marker keys whose "job ready" marker we popped and no wait has consumed yet. */
  private readonly ready = new Set<string>();
  /** Marker key → the earliest due time (Redis clock) of a delayed-job marker we popped. */
  private readonly due = new Map<string, number>();
  private readonly listeners = new Set<() => void>();

  constructor(
    private readonly open: () => Promise<Redis>,
    /** Epoch milliseconds on the Redis clock. */
    private readonly now: () => number,
  ) {}

  /** Resolves when a job may be ready on one of `keys`, after `timeoutMs`, or on abort. */
  async wait(keys: string[], timeoutMs: number, signal: AbortSignal): Promise<void> {
    if (signal.aborted || this.closed) return;
    if (this.take(keys)) return;
    const deadline = Date.now() + timeoutMs;
    await new Promise<void>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const finish = () => {
        clearTimeout(timer);
        this.listeners.delete(check);
        signal.removeEventListener('abort', finish);
        resolve();
      };
      const check = () => {
        if (this.closed || this.take(keys) || Date.now() >= deadline) return finish();
        const nextDue = this.nextDue(keys);
        const ms = Math.min(deadline - Date.now(), nextDue - this.now());
        clearTimeout(timer);
        timer = setTimeout(check, Math.max(1, ms));
        if (keys.length > 0) this.block(keys, ms);
      };
      signal.addEventListener('abort', finish);
      this.listeners.add(check);
      check();
    });
  }

  /**
   * Notes that a delayed job of the queue whose marker is `key` comes due at `at` (Redis
   * clock), as a claim that found nothing learns it from moveToActive. Without it only the
   * worker that popped the delayed marker would wake on time; another would sleep on to its
   * timeout (a rate-limited job put back 100 ms would start up to --sleep late).
   */
  expect(key: string, at: number): void {
    this.due.set(key, Math.min(this.due.get(key) ?? Infinity, at));
  }

  /** Consumes what is ready for `keys`: a popped ready marker, or a delayed job now due. */
  private take(keys: string[]): boolean {
    let hit = false;
    for (const key of keys) {
      if (this.ready.delete(key)) hit = true;
      const at = this.due.get(key);
      if (at !== undefined && at <= this.now()) {
        this.due.delete(key);
        hit = true;
      }
    }
    return hit;
  }

  private nextDue(keys: string[]): number {
    let next = Infinity;
    for (const key of keys) next = Math.min(next, this.due.get(key) ?? Infinity);
    return next;
  }

  /** Issues one BZPOPMIN unless one is in flight; its reply re-runs every waiter's check. */
  private block(keys: string[], ms: number): void {
    if (this.pending) {
      // A blocking command that outlived its timeout by far is stuck (a half-open
      // connection): drop that connection so the next wait starts on a fresh one.
      if (Date.now() - this.pending.since > this.pending.limitMs + 2000) this.reset();
      return;
    }
    if (Date.now() - this.failedAt < BACKOFF_MS) return;
    const seconds = Math.min(MAX_BLOCK_S, Math.max(MIN_BLOCK_S, ms / 1000));
    this.client ??= this.open();
    const client = this.client;
    this.pending = { since: Date.now(), limitMs: seconds * 1000, client };
    void (async () => {
      try {
        const reply = await (await client).bzpopmin(...keys, seconds.toFixed(3));
        if (reply) {
          const [key, member, score] = reply;
          if (member === '0' || Number(score) <= this.now()) this.ready.add(key);
          else this.due.set(key, Math.min(this.due.get(key) ?? Infinity, Number(score)));
        }
      } catch {
        this.failedAt = Date.now();
        // A connection that never opened is opened again next time.
        if (this.client === client && (await client.then(() => false).catch(() => true)))
          this.client = undefined;
      } finally {
        if (this.pending?.client === client) this.pending = undefined;
        for (const listener of [...this.listeners]) listener();
      }
    })();
  }

  private reset(): void {
    const stale = this.client;
    this.client = undefined;
    this.pending = undefined;
    void stale?.then((c) => c.disconnect()).catch(() => {});
  }

  close(): void {
    this.closed = true;
    for (const listener of [...this.listeners]) listener();
    this.reset();
  }
}
