import type { JobLogger } from '../../jobs/types.js';
import type { FlowControl } from '../types.js';

/**
 * Pushes back the rate limit a thrown `RetryAfter(seconds, { limit, key })` names (an upstream's
 * 429), for as long as its job waits: that key, or the whole limit without a key, so that every
 * other job on it waits too. Called by the executor for every job, with or without rateLimited
 * middleware, before the job is put back.
 *
 * Never throws: the job goes back either way. A limit the config does not declare, a worker
 * without flow control, or a storage error is logged, and only the job waits.
 */
export async function pushBackLimit(
  pushBack: { limit: string; key?: string },
  ms: number,
  flow: FlowControl | undefined,
  log: JobLogger,
  job: string,
): Promise<void> {
  const { limit, key } = pushBack;
  const rule = flow?.rateLimits.get(limit);
  if (!flow || !rule) {
    const known = flow ? [...flow.rateLimits.keys()].join(', ') || 'none' : undefined;
    log.error(
      flow
        ? `RetryAfter names rate limit '${limit}', which the config does not declare (declared: ${known}); only the job was put back.`
        : `RetryAfter names rate limit '${limit}', but this worker has no flow control; only the job was put back.`,
      { job, limit, key },
    );
    return;
  }
  try {
    await flow.store.rateLimits.block(rule, key, ms);
  } catch (error) {
    log.error(`Could not push back rate limit '${limit}': ${(error as Error).message}`, {
      job,
      limit,
      key,
    });
  }
}
