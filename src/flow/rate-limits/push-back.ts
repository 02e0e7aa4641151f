import { ConfigError, JobsmithError } from '../../errors.js';
import type { JobLogger } from '../../jobs/types.js';
import type { FlowControl } from '../types.js';

/**
 * Pushes back the rate limit a thrown `RetryAfter(seconds, { limit, key })` names (an upstream's
 * 429), for as long as its job waits: that key, or the whole limit without a key, so that every
 * other job on it waits too. Called by the executor for every job, with or without rateLimited
 * middleware, before the job is put back.
 *
 * Never throws: the job goes back either way. A limit the config does not declare or a storage
 * error is reported through `flow.emit` as a `worker:error` (`run queue:work` prints it on
 * stderr and logs it), since only the job waits and the others on its key keep going; without
 * flow control (a worker built without it) it is logged to the job's log.
 */
export async function pushBackLimit(
  pushBack: { limit: string; key?: string },
  ms: number,
  flow: FlowControl | undefined,
  log: JobLogger,
  job: string,
): Promise<void> {
  const { limit, key } = pushBack;
  if (!flow) {
    log.error(
      `RetryAfter names rate limit '${limit}', but this worker has no flow control; only the job was put back.`,
      { job, limit, key },
    );
    return;
  }
  const during = `the push-back of rate limit '${limit}' by job ${job}`;
  const rule = flow.rateLimits.get(limit);
  if (!rule) {
    const known = [...flow.rateLimits.keys()].join(', ') || 'none';
    const error = new ConfigError(
      `RetryAfter names rate limit '${limit}', which the config does not declare (declared: ${known}); only the job was put back.`,
      {
        hint: `Declare '${limit}' in defineConfig({ rateLimits }), or fix the limit the job's RetryAfter names.`,
      },
    );
    flow.emit({ type: 'worker:error', error, during });
    return;
  }
  try {
    await flow.store.rateLimits.block(rule, key, ms);
  } catch (cause) {
    const error = new JobsmithError(
      `Could not push back rate limit '${limit}'${key === undefined ? '' : ` for key ${key}`}: ${(cause as Error).message}; only the job was put back.`,
      { cause },
    );
    flow.emit({ type: 'worker:error', error, during });
  }
}
