import { describe, expect, it } from 'vitest';
import { ConfigError, ConnectionError, StorageError, UsageError } from '../src/errors.js';
import {
  describeStorage,
  isFatalStorageError,
  StorageWatch,
  storageFailure,
} from '../src/worker/storage-health.js';

const PG = { name: 'PostgreSQL at postgres://db/app', hint: 'Check DATABASE_URL.' };

/** A PostgreSQL error as pg raises it: a message and a SQLSTATE code. */
function pgError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

describe('isFatalStorageError', () => {
  it.each([
    ['a StorageError', new StorageError('read-only')],
    ['a ConfigError', new ConfigError('bad')],
    ['a UsageError', new UsageError('bad queue')],
    ['a TypeError (a bug, not an outage)', new TypeError('x is not a function')],
    ['PostgreSQL 22021 (invalid byte sequence)', pgError('22021', 'invalid byte sequence')],
    ['PostgreSQL 23505 (unique violation)', pgError('23505', 'duplicate key')],
    ['PostgreSQL 42P01 (undefined table)', pgError('42P01', 'relation "jobs" does not exist')],
    ['PostgreSQL 3D000 (no such database)', pgError('3D000', 'database "x" does not exist')],
    ['PostgreSQL 28P01 (password)', pgError('28P01', 'password authentication failed')],
    ['PostgreSQL 25006 (read-only transaction)', pgError('25006', 'read-only transaction')],
    ['SQLite read-only, through knex', pgError('SQLITE_READONLY', 'attempt to write')],
    ['SQLite no such table, through knex', pgError('SQLITE_ERROR', 'no such table: failed_jobs')],
    ['Redis WRONGPASS', new Error('WRONGPASS invalid username-password pair')],
    [
      'a ConnectionError for a refused login (at connect)',
      new ConnectionError('Cannot connect to PostgreSQL at postgres://db/app: ...', {
        cause: pgError('28P01', 'password authentication failed'),
      }),
    ],
    [
      'a ConnectionError for a missing database (at connect)',
      new ConnectionError('Cannot connect to PostgreSQL at postgres://db/x: ...', {
        cause: pgError('3D000', 'database "x" does not exist'),
      }),
    ],
    [
      'a ConnectionError for Redis WRONGPASS (at connect)',
      new ConnectionError('Cannot connect to Redis at redis://r: authentication failed.', {
        cause: new Error('WRONGPASS invalid username-password pair'),
      }),
    ],
  ])('%s cannot be fixed by waiting', (_name, error) => {
    expect(isFatalStorageError(error)).toBe(true);
  });

  it.each([
    ['a ConnectionError', new ConnectionError('Redis unreachable')],
    [
      'a ConnectionError for a refused connection (at connect)',
      new ConnectionError(
        'Cannot connect to PostgreSQL at postgres://db/app: connection refused.',
        {
          cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
        },
      ),
    ],
    ['ECONNREFUSED', Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })],
    ['a dropped connection', new Error('Connection terminated unexpectedly')],
    ['PostgreSQL 57P01 (admin shutdown)', pgError('57P01', 'terminating connection')],
    ['PostgreSQL 57P03 (starting up)', pgError('57P03', 'the database system is starting up')],
    ['PostgreSQL 40001 (serialization)', pgError('40001', 'could not serialize')],
    ['SQLite busy', pgError('SQLITE_BUSY', 'database is locked')],
    ['SQLite some other error', pgError('SQLITE_ERROR', 'near "x": syntax error')],
    ['Redis LOADING', new Error('LOADING Redis is loading the dataset in memory')],
  ])('%s is worth retrying', (_name, error) => {
    expect(isFatalStorageError(error)).toBe(false);
  });
});

describe('storageFailure', () => {
  it('names the storage, what the worker did and the error, with the storage hint', () => {
    const error = storageFailure(new Error('connect ECONNREFUSED'), PG, 'claim');
    expect(error).toBeInstanceOf(StorageError);
    expect(error.message).toBe(
      'PostgreSQL at postgres://db/app failed during claim: connect ECONNREFUSED.',
    );
    expect(error.hint).toBe('Check DATABASE_URL.');
  });

  it('says a refused value is the job, not the server', () => {
    const error = storageFailure(
      pgError('22021', 'invalid byte sequence for encoding "UTF8": 0x00'),
      PG,
      'recording the failure of job #1 (nul)',
      'The job\'s own error: "bad\\u0000byte".',
    );
    expect(error.message).toBe(
      'PostgreSQL at postgres://db/app failed during recording the failure of job #1 (nul): ' +
        'invalid byte sequence for encoding "UTF8": 0x00. The job\'s own error: "bad\\u0000byte".',
    );
    expect(error.hint).toBe(
      'The storage refused a value the worker wrote for the job; the job stays held until its lease ends, then runs again. Report this message with the job.',
    );
  });

  it('keeps the message and hint of a StorageError from the driver, after what the worker did', () => {
    const cause = new StorageError('The SQLite database /x.sqlite is read-only: no.', {
      hint: 'Make it writable.',
    });
    const error = storageFailure(cause, PG, 'recording the completion of job #3 (a)');
    expect(error.message).toBe(
      'Recording the completion of job #3 (a): the SQLite database /x.sqlite is read-only: no.',
    );
    expect(error.hint).toBe('Make it writable.');
  });
});

describe('StorageWatch', () => {
  function watch(timeoutMs: number) {
    const reported: string[] = [];
    const failed: StorageError[] = [];
    const w = new StorageWatch(timeoutMs, PG, {
      report: (error, during) => reported.push(`${during}: ${error.message}`),
      fail: (error) => failed.push(error),
    });
    return { w, reported, failed };
  }

  it('stops at once on an error waiting cannot fix', () => {
    const { w, reported, failed } = watch(60_000);
    expect(w.trouble(pgError('42P01', 'relation "jobs" does not exist'), 'claim')).toBe(false);
    expect(reported).toEqual([]);
    expect(failed.map((e) => e.message)).toEqual([
      'PostgreSQL at postgres://db/app failed during claim: relation "jobs" does not exist.',
    ]);
  });

  it('reports transient errors and stops once they have lasted the timeout without a success', async () => {
    const { w, reported, failed } = watch(50);
    const refused = new Error('connect ECONNREFUSED');
    expect(w.trouble(refused, 'claim')).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(w.trouble(refused, 'claim')).toBe(false);
    expect(reported).toEqual(['claim: connect ECONNREFUSED', 'claim: connect ECONNREFUSED']);
    expect(failed).toHaveLength(1);
    expect(failed[0]!.message).toMatch(
      /^PostgreSQL at postgres:\/\/db\/app has been failing for \d+ms \(--storage-timeout 50ms\); the last error: connect ECONNREFUSED$/,
    );
    expect(failed[0]!.hint).toBe(
      'Check DATABASE_URL. The process exits 14 so that its process manager starts it again.',
    );
  });

  it('starts counting again after a success', async () => {
    const { w, failed } = watch(50);
    const refused = new Error('connect ECONNREFUSED');
    w.trouble(refused, 'claim');
    await new Promise((resolve) => setTimeout(resolve, 60));
    w.ok();
    expect(w.trouble(refused, 'claim')).toBe(true);
    expect(failed).toEqual([]);
  });
});

describe('describeStorage', () => {
  it('names the SQLite file, the PostgreSQL URL (masked) or Redis with its SQL storage', () => {
    expect(describeStorage('database', { dialect: 'sqlite', describe: '/srv/db.sqlite' })).toEqual({
      name: 'the SQLite database /srv/db.sqlite',
      hint: 'Check DB_DATABASE: the file, its -wal and -shm files and its folder must be writable by the user that runs the worker.',
    });
    expect(
      describeStorage('database', { dialect: 'pgsql', describe: 'postgres://u:***@h/db' }).name,
    ).toBe('PostgreSQL at postgres://u:***@h/db');
    expect(
      describeStorage(
        'redis',
        { dialect: 'sqlite', describe: '/srv/db.sqlite' },
        'redis://:secret@127.0.0.1:6379',
      ),
    ).toEqual({
      name: 'Redis at redis://:***@127.0.0.1:6379 (failed jobs in /srv/db.sqlite)',
      hint: 'Check REDIS_URL and that the Redis server is running, and DB_DATABASE for failed jobs.',
    });
  });
});
