/*
 * The session's lease: one holder per MTProto session across every process on the storage,
 * since Telegram answers a session used by two connections at once with AUTH_KEY_DUPLICATED and
 * revokes it. Held in the flow's LockStore (the one withoutOverlapping uses, on SQLite,
 * PostgreSQL and Redis), keyed by a fingerprint of the session, never the session itself.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { LockStore } from '../flow/locks/store.js';
import type { JobLogger } from '../jobs/types.js';
import { timerDelay } from '../util/timers.js';

/** The lock key of a session: `channels.session:` and its fingerprint (or the source's account). */
export function leaseKey(sessionId: string): string {
  return `channels.session:${sessionId}`;
}

/**
 * A non-secret fingerprint of a session string: the first 16 hex digits of its SHA-256. Enough
 * to tell sessions apart, useless to rebuild one.
 */
export function sessionFingerprint(session: string): string {
  return createHash('sha256').update(session).digest('hex').slice(0, 16);
}

/** What taking the lease answered: held, or busy for `expiresInMs` more unless renewed. */
export type LeaseTaken = { lease: SessionLease } | { lease: undefined; expiresInMs: number };

/**
 * A held lease, renewed every third of its length so that two renewals may fail before it runs
 * out. When a renewal finds it lost (the event loop blocked, the storage gone for a whole lease),
 * `onLost` runs: the caller closes the connection, so the session is never used twice.
 */
export class SessionLease {
  private readonly timer: NodeJS.Timeout;
  private renewing?: Promise<void>;
  private ended = false;
  private lost = false;

  private constructor(
    private readonly locks: LockStore,
    readonly key: string,
    private readonly token: string,
    private readonly leaseMs: number,
    private readonly log: JobLogger,
    private readonly onLost: () => void,
  ) {
    this.timer = setInterval(() => this.renew(), timerDelay(Math.floor(leaseMs / 3)));
    // A lease must never keep a finished process alive.
    this.timer.unref();
  }

  /** Takes the lease of `key` for `leaseMs`, or says how long its holder still has it. */
  static async take(
    locks: LockStore,
    key: string,
    leaseMs: number,
    log: JobLogger,
    onLost: () => void,
  ): Promise<LeaseTaken> {
    const token = randomUUID();
    const answer = await locks.acquire(key, token, leaseMs);
    if (!answer.acquired) return { lease: undefined, expiresInMs: answer.expiresInMs };
    return { lease: new SessionLease(locks, key, token, leaseMs, log, onLost) };
  }

  private renew(): void {
    this.renewing ??= this.locks
      .renew(this.key, this.token, this.leaseMs)
      .then(
        (held) => {
          if (held || this.ended) return;
          this.lost = true;
          clearInterval(this.timer);
          this.log.error(
            `The Telegram session's lease "${this.key}" ran out before it was renewed (the event loop blocked, or the storage unreachable, for ${this.leaseMs}ms); the connection is closed so that the session is never used twice.`,
            { lease: this.key },
          );
          this.onLost();
        },
        (error: unknown) => {
          if (this.ended) return;
          this.log.warn(
            `Could not renew the Telegram session's lease "${this.key}" (tried again in ${Math.floor(this.leaseMs / 3)}ms): ${(error as Error)?.message ?? String(error)}`,
            { lease: this.key },
          );
        },
      )
      .finally(() => {
        this.renewing = undefined;
      });
  }

  /** Stops renewing and frees the lease if it is still ours. Never throws (logs instead). */
  async release(): Promise<void> {
    this.ended = true;
    clearInterval(this.timer);
    await this.renewing;
    if (this.lost) return;
    try {
      await this.locks.release(this.key, this.token);
    } catch (error) {
      this.log.warn(
        `Could not free the Telegram session's lease "${this.key}"; it frees itself within ${this.leaseMs}ms: ${(error as Error)?.message ?? String(error)}`,
        { lease: this.key },
      );
    }
  }
}
