import type { ClaimedJob, QueueDriver } from '../queue/driver.js';
import { sleep } from '../util/sleep.js';

/**
 * Gives back jobs the worker holds and has not started (claimed ahead, or waiting to run alone):
 * each is released at once with its attempt refunded. A release that fails is reported; that
 * job comes back when its lease ends.
 */
export async function giveBack(
  driver: QueueDriver,
  jobs: ClaimedJob[],
  onError: (error: unknown) => void,
): Promise<void> {
  await Promise.all(
    jobs.map((job) =>
      driver
        .release({ id: job.id, token: job.token }, { delayMs: 0, refundAttempt: true })
        .catch(onError),
    ),
  );
}

/**
 * Waits for `pending()` (in-flight jobs and their settling writes) up to `graceMs`, then aborts
 * `hardStop` (running jobs are abandoned, writes still being retried given up) and waits for
 * what that leaves. `idle()` says whether anything is still in flight.
 */
export async function finishWithin(
  graceMs: number,
  hardStop: AbortController,
  pending: () => Array<Promise<void>>,
  idle: () => boolean,
): Promise<void> {
  if (idle()) return;
  await Promise.race([Promise.all(pending()), sleep(graceMs, hardStop.signal)]);
  if (!idle()) {
    hardStop.abort();
    await Promise.all(pending());
  }
}
