/*
 * Leased locks on one storage (withoutOverlapping). A lock is a key held by a token until its
 * lease runs out: the holder renews it while it works and releases it when done; if the holder
 * dies, renewals stop and the lease expires on its own, so a crashed process never blocks a key
 * for longer than one lease. Every call is one atomic round trip and is fenced by the token: a
 * renew or a release with a token that no longer holds the key changes nothing.
 *
 * Times come from the storage's clock (SQLite: the host's; PostgreSQL: the server's; Redis: its
 * own expiry), and each answer is a length of time, never a moment, so callers on hosts with
 * skewed clocks still agree.
 *
 * Keys are stored as identities (src/util/stored-text.ts `storableKey`): any string, the same
 * on every backend; one too long for the column (190) is kept as a head and its SHA-256.
 * Tokens are the caller's (withoutOverlapping uses a UUID per attempt), at most 64 characters.
 */

/** What `acquire` answers. */
export type LockAcquired =
  | { acquired: true }
  /** Another token holds the key; its lease runs out in `expiresInMs` (at least 1) unless renewed. */
  | { acquired: false; expiresInMs: number };

/** A lock held now, as `list` shows it. */
export interface LockInfo {
  /** The key, as stored (see storableKey). */
  key: string;
  token: string;
  /** Milliseconds until the lease runs out unless renewed, on the storage's clock; at least 1. */
  expiresInMs: number;
}

/** Leased locks on one storage. Implemented in sqlite.ts, postgres.ts and redis.ts. */
export interface LockStore {
  /**
   * Takes `key` for `token` for `ttlMs` milliseconds (a whole number, at least 1): when nobody
   * holds it, its last lease has run out, or `token` already holds it (then its lease starts
   * again). Otherwise says how long the holder's lease still runs.
   */
  acquire(key: string, token: string, ttlMs: number): Promise<LockAcquired>;
  /**
   * Restarts the lease of a lock `token` still holds: `ttlMs` from now. False, changing
   * nothing, when the lease has run out or another token holds the key.
   */
  renew(key: string, token: string, ttlMs: number): Promise<boolean>;
  /**
   * Frees `key` if `token` holds it. False, changing nothing for any other holder, when it did
   * not (its lease had run out, or another token took the key).
   */
  release(key: string, token: string): Promise<boolean>;
  /** Every lock whose lease has not run out, by key. */
  list(): Promise<LockInfo[]>;
}
