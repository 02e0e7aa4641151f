import { statSync } from 'node:fs';
import { StorageError } from '../../errors.js';
import type { QueueDriver } from '../driver.js';

/** How often, at most, the file's identity is checked, ms. */
const CHECK_EVERY_MS = 1000;

/**
 * The SQLite file a driver opened, watched for what waiting cannot fix:
 *
 * - the file deleted or replaced under the open connection (an `rm`, a restore, a deploy that
 *   copies a fresh database over the old one). The connection keeps the old file, and the next
 *   process to open the path makes a new one, ids from 1, whose jobs this process never sees.
 *   Found by comparing the path's device and inode with those at open, at most once a second
 *   (one stat call).
 * - errors that say the file cannot be used: read-only, corrupt, not a database, no schema.
 *
 * Both come out as StorageErrors that name the file and say what to do; other errors (SQLITE_BUSY,
 * a full disk) pass unchanged, for the caller to retry.
 */
export class SqliteFile {
  private readonly identity?: { dev: number; ino: number };
  private checkedAt = 0;

  constructor(readonly filename: string) {
    this.identity = identityOf(filename);
  }

  /**
   * Throws a StorageError if the path no longer names the file opened. Looks at most once a
   * second unless `force`d.
   */
  check(force = false): void {
    const now = performance.now();
    if (!this.identity || (!force && now - this.checkedAt < CHECK_EVERY_MS)) return;
    this.checkedAt = now;
    const current = identityOf(this.filename);
    if (current && current.dev === this.identity.dev && current.ino === this.identity.ino) return;
    throw new StorageError(
      `The SQLite database ${this.filename} was ${current ? 'replaced by another file' : 'deleted'} while this process had it open.`,
      {
        hint: 'Jobs dispatched since then go to a file this process does not see: start it again on the current file (a process manager restarts a worker that exits 14), and restore the jobs of the old file if they matter.',
      },
    );
  }

  /** `error` as a StorageError when it means the file cannot be used; otherwise `error` itself. */
  failure(error: unknown): unknown {
    if (error instanceof StorageError) return error;
    const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
    const text = typeof message === 'string' ? message : String(error);
    const kind = typeof code === 'string' ? sqliteFatalKind(code, text) : undefined;
    if (!kind) return error;
    return new StorageError(`The SQLite database ${this.filename} ${kind.what}: ${text}.`, {
      hint: kind.hint,
      cause: error,
    });
  }
}

function identityOf(filename: string): { dev: number; ino: number } | undefined {
  try {
    const { dev, ino } = statSync(filename);
    return { dev, ino };
  } catch {
    return undefined;
  }
}

/**
 * What an SQLite error (its code and message) says about the file, for the errors that waiting
 * does not fix; undefined for the others (SQLITE_BUSY, a full disk...).
 */
export function sqliteFatalKind(
  code: string,
  message: string,
): { what: string; hint: string } | undefined {
  if (code === 'SQLITE_READONLY_DBMOVED') {
    return {
      what: 'was moved or deleted while this process had it open',
      hint: 'Start the process again on the current file.',
    };
  }
  if (code.startsWith('SQLITE_READONLY') || code === 'SQLITE_PERM' || code === 'SQLITE_AUTH') {
    return {
      what: 'is read-only',
      hint: 'Make the file, its -wal and -shm files and its folder writable by the user that runs this process, or point DB_DATABASE at a writable file.',
    };
  }
  if (code.startsWith('SQLITE_CORRUPT')) {
    return {
      what: 'is corrupt',
      hint: 'Restore it from a backup; `sqlite3 FILE "pragma integrity_check"` shows the damage.',
    };
  }
  if (code === 'SQLITE_NOTADB') {
    return {
      what: 'is not an SQLite database',
      hint: 'Check DB_DATABASE: it names a file that is not a jobsmith database.',
    };
  }
  if (code.startsWith('SQLITE_CANTOPEN')) {
    return {
      what: 'cannot be opened',
      hint: 'Check DB_DATABASE and that the file and its folder exist and are writable.',
    };
  }
  if (code === 'SQLITE_ERROR' && /no such (table|column)/i.test(message)) {
    return {
      what: 'has no jobsmith schema (or an old one)',
      hint: 'Run `run migrate` on it, or check that DB_DATABASE names the right file.',
    };
  }
  return undefined;
}

/** The driver calls that touch the file: each checks it first and maps its errors. */
const GUARDED = [
  'push',
  'claim',
  'extend',
  'complete',
  'markAlone',
  'release',
  'fail',
  'sizes',
  'queues',
  'list',
  'clear',
] as const;

type AnyCall = (...args: unknown[]) => Promise<unknown>;

/**
 * Makes every call of `driver` that touches `file` check it first (at most once a second) and
 * turn the errors that mean the file cannot be used into StorageErrors; an idle wait
 * (waitForJobs) checks it once a second and ends with the StorageError if it fails. Done once,
 * on the instance, so the driver's methods stay plain statements; a call costs a time check.
 */
export function guardFile(driver: QueueDriver, file: SqliteFile): void {
  const calls = driver as unknown as Record<string, AnyCall>;
  for (const name of GUARDED) {
    const call = calls[name]!.bind(driver);
    calls[name] = (...args) => {
      try {
        file.check();
      } catch (error) {
        return Promise.reject(error);
      }
      return call(...args).catch((error: unknown) => {
        throw file.failure(error);
      });
    };
  }
  const wait = driver.waitForJobs.bind(driver);
  driver.waitForJobs = (queues, timeoutMs, signal) =>
    new Promise<void>((resolve, reject) => {
      const gone = new AbortController();
      const timer = setInterval(() => {
        try {
          file.check(true);
        } catch (error) {
          end();
          gone.abort();
          reject(error);
        }
      }, CHECK_EVERY_MS);
      const end = () => clearInterval(timer);
      wait(queues, timeoutMs, AbortSignal.any([signal, gone.signal])).then(
        () => (end(), resolve()),
        (error: unknown) => (end(), reject(file.failure(error))),
      );
    });
}
