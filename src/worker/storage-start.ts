import { StorageError } from '../errors.js';
import { sleep } from '../util/sleep.js';
import {
  isFatalStorageError,
  storageBackoffMs,
  StorageOutage,
  WorkerStorageError,
  type StorageInfo,
} from './storage-health.js';

/**
 * A long-running command's first touch of its storage. At boot, supervisor may start workers
 * before PostgreSQL or Redis listens: a failure waiting can fix (the same classification as a
 * running worker's, isFatalStorageError) is reported and tried again with the worker's backoff,
 * until the storage answers or the failures have lasted `timeoutMs`; then it throws a
 * WorkerStorageError (exit 14) worded as a running worker's. A failure waiting cannot fix (a
 * refused login, a missing database, a read-only file) is thrown as it is, at once, with its
 * own exit code.
 */
export async function openWhenReachable<T>(
  open: () => Promise<T>,
  o: {
    /** --storage-timeout, in ms. */
    timeoutMs: number;
    /** Names the storage in the message of the timeout. */
    info: StorageInfo;
    /** Each failure that will be tried again, as a running worker reports its own. */
    report(error: Error, during: string): void;
  },
): Promise<T> {
  const outage = new StorageOutage(o.timeoutMs);
  // No stop signal is listened for yet: SIGTERM or Ctrl+C ends a waiting process as before.
  const never = new AbortController().signal;
  for (let failures = 0; ; failures++) {
    try {
      return await open();
    } catch (error) {
      if (error instanceof StorageError || isFatalStorageError(error)) {
        throw error;
      }
      o.report(error instanceof Error ? error : new Error(String(error)), 'start');
      outage.failed(error);
      const timedOut = outage.exceeded(o.info);
      if (timedOut) {
        throw new WorkerStorageError(timedOut.message, { hint: timedOut.hint, cause: error });
      }
      await sleep(storageBackoffMs(failures), never);
    }
  }
}
