import { JobsmithError, ConnectionError, StorageError } from '../errors.js';
import { maskUrl } from '../logging/redact.js';
import { sqliteFatalKind } from '../queue/database/sqlite-file.js';
import { formatDuration } from '../util/duration.js';

/**
 * How a worker tells storage failures that waiting can fix (a connection refused or cut, a
 * server restarting, a lock held) from those it cannot (a read-only or corrupt file, a missing
 * table, a value the storage refuses), and how long it waits for the first kind.
 */

/** What the worker says about its storage when that storage fails. */
export interface StorageInfo {
  /** "the SQLite database /srv/app/storage/database.sqlite", "PostgreSQL at postgres://…". */
  name: string;
  /** What to check: the setting that names the storage. */
  hint: string;
}

export const UNKNOWN_STORAGE: StorageInfo = {
  name: 'the storage',
  hint: 'Check that the storage the worker uses is reachable and writable.',
};

/**
 * SQLSTATE classes of PostgreSQL errors that waiting does not fix: data the storage refuses
 * (22: data exception, 23: integrity), a wrong schema or statement (42, 3F), a missing database
 * (3D), a refused login (28), a read-only transaction (25006) and unsupported features (0A).
 */
const PG_FATAL_CLASSES = new Set(['22', '23', '42', '3F', '3D', '28', '0A']);
const PG_FATAL_CODES = new Set(['25006']);

/** Redis replies that waiting does not fix: refused credentials or permissions, a wrong type. */
const REDIS_FATAL = /^(NOAUTH|WRONGPASS|NOPERM|WRONGTYPE)\b/;

/**
 * Whether retrying `error` cannot help: StorageError (the drivers map read-only, corrupt,
 * replaced files and a missing schema to it), the other named errors except ConnectionError,
 * a ConnectionError that wraps one of these, PostgreSQL errors of the classes above, the same
 * SQLite errors as the driver maps (when they come through knex: failed_jobs of a redis worker),
 * Redis replies above, and programming errors (TypeError and friends). Everything else
 * (connection errors, timeouts, SQLITE_BUSY, unknown errors) counts as transient: retried, for
 * a bounded time.
 */
export function isFatalStorageError(error: unknown): boolean {
  // A ConnectionError names the server; what it wraps says whether waiting helps (a refused
  // login or a missing database, met when a connection opens, does not).
  if (error instanceof ConnectionError) return isFatalStorageError(error.cause ?? null);
  if (error instanceof JobsmithError) return true;
  if (
    error instanceof TypeError ||
    error instanceof RangeError ||
    error instanceof ReferenceError ||
    error instanceof SyntaxError
  )
    return true;
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  const text = typeof message === 'string' ? message : '';
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) {
    if (PG_FATAL_CODES.has(code) || PG_FATAL_CLASSES.has(code.slice(0, 2))) return true;
  }
  // The SQL storage of a redis worker (failed_jobs) is reached through knex, not the driver.
  if (typeof code === 'string' && code.startsWith('SQLITE_') && sqliteFatalKind(code, text))
    return true;
  return REDIS_FATAL.test(text);
}

/**
 * The StorageError a worker stops on: one that names the storage, what the worker was doing and
 * the storage's own message (`error`'s, or the message of `error` itself when it is a
 * StorageError, which already names the storage), then `note`, with a hint that says what to do.
 */
export function storageFailure(
  error: unknown,
  info: StorageInfo,
  during: string,
  note?: string,
): StorageError {
  const message = error instanceof Error ? error.message : String(error);
  const tail = note ? ` ${note}` : '';
  if (error instanceof StorageError) {
    // It names the storage already: say what the worker was doing, then its message.
    return new StorageError(
      `${capitalise(during)}: ${message.charAt(0).toLowerCase()}${message.slice(1)}${tail}`,
      { hint: error.hint, cause: error },
    );
  }
  return new StorageError(
    `${capitalise(info.name)} failed during ${during}: ${withStop(message)}${tail}`,
    { hint: refusedValue(error) ? REFUSED_HINT : info.hint, cause: error },
  );
}

const REFUSED_HINT =
  'The storage refused a value the worker wrote for the job; the job stays held until its lease ends, then runs again. Report this message with the job.';

/** A PostgreSQL data exception (22) or integrity violation (23): a value, not the server. */
function refusedValue(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^2[23][0-9A-Z]{3}$/.test(code);
}

function withStop(text: string): string {
  return /[.!?]$/.test(text) ? text : `${text}.`;
}

/**
 * How long a worker waits after the `failures`-th storage failure in a row (0 for the first)
 * before it tries again: 250 ms, doubling, at most 5 s, so a restart of a second costs little
 * and an outage of minutes costs the server one try every 5 s.
 */
export function storageBackoffMs(failures: number): number {
  return Math.min(5000, 250 * 2 ** failures);
}

/**
 * What a worker does with its storage's failures: an error waiting cannot fix stops it at once;
 * other errors are reported and retried by the caller until they have lasted `timeoutMs`
 * without a success in between, then the worker stops. `fail` gets the StorageError to stop on.
 */
export class StorageWatch {
  private readonly outage: StorageOutage;

  constructor(
    timeoutMs: number,
    private readonly info: StorageInfo,
    private readonly on: {
      report(error: Error, during: string): void;
      fail(error: StorageError): void;
    },
  ) {
    this.outage = new StorageOutage(timeoutMs);
  }

  /** A storage call went through. */
  ok(): void {
    this.outage.ok();
  }

  /** Stops the worker on `error`, whatever it is; `note` is added to the message. */
  failed(error: unknown, during: string, note?: string): void {
    this.on.fail(storageFailure(error, this.info, during, note));
  }

  /** A storage call failed: true while the caller should go on (and retry), false once stopped. */
  trouble(error: unknown, during: string): boolean {
    if (error instanceof StorageError) {
      this.on.fail(error);
      return false;
    }
    if (isFatalStorageError(error)) {
      this.failed(error, during);
      return false;
    }
    this.on.report(error instanceof Error ? error : new Error(String(error)), during);
    this.outage.failed(error);
    const timedOut = this.outage.exceeded(this.info);
    if (timedOut) this.on.fail(timedOut);
    return !timedOut;
  }
}

/**
 * Consecutive storage failures: when the first of the current run of failures happened. Any
 * success ends the run. `exceeded` says when the run has lasted longer than the timeout.
 */
export class StorageOutage {
  private since?: number;
  private last?: unknown;

  constructor(private readonly timeoutMs: number) {}

  /** A storage call went through: the outage, if any, is over. */
  ok(): void {
    this.since = undefined;
    this.last = undefined;
  }

  /** A storage call failed with a transient error. */
  failed(error: unknown, now = Date.now()): void {
    this.since ??= now;
    this.last = error;
  }

  /** The StorageError to stop on once the outage has lasted the timeout; undefined before. */
  exceeded(info: StorageInfo, now = Date.now()): StorageError | undefined {
    if (this.since === undefined || now - this.since < this.timeoutMs) return undefined;
    const last = this.last instanceof Error ? this.last.message : String(this.last);
    return new StorageError(
      `${capitalise(info.name)} has been failing for ${formatDuration(now - this.since)} ` +
        `(--storage-timeout ${formatDuration(this.timeoutMs)}); the last error: ${last}`,
      {
        hint: `${info.hint} The process exits 14 so that its process manager starts it again.`,
        cause: this.last,
      },
    );
  }
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/**
 * The storage a worker's driver uses, for its messages: the SQL storage (`dialect`, and its
 * path or masked URL as `describe`) for the database connection, Redis otherwise.
 */
export function describeStorage(
  connection: string,
  db: { dialect: 'sqlite' | 'pgsql'; describe: string },
  redisUrl?: string,
): StorageInfo {
  if (connection === 'redis') {
    const sql = db.dialect === 'sqlite' ? 'DB_DATABASE' : 'DATABASE_URL';
    return {
      name: `Redis at ${maskUrl(redisUrl ?? '')} (failed jobs in ${db.describe})`,
      hint: `Check REDIS_URL and that the Redis server is running, and ${sql} for failed jobs.`,
    };
  }
  if (db.dialect === 'sqlite') {
    return {
      name: `the SQLite database ${db.describe}`,
      hint: 'Check DB_DATABASE: the file, its -wal and -shm files and its folder must be writable by the user that runs the worker.',
    };
  }
  return {
    name: `PostgreSQL at ${db.describe}`,
    hint: 'Check DATABASE_URL and that the server is running.',
  };
}

/** A StorageError that `run queue:work` meets before its worker runs: exit 14, as after. */
export class WorkerStorageError extends StorageError {
  override readonly exitCode = 14;
}

/** `error` with the worker's exit code when it is a StorageError; otherwise unchanged. */
export function asWorkerStorageError(error: unknown): unknown {
  if (!(error instanceof StorageError) || error instanceof WorkerStorageError) return error;
  return new WorkerStorageError(error.message, { hint: error.hint, cause: error });
}
