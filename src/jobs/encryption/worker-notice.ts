import { APP_KEY_UNSET, loadKeyring } from './keys.js';

/**
 * What `run queue:work` says at start when it cannot open some encrypted payloads: APP_KEY unset
 * or malformed (no job sealed with it opens), or a malformed key of APP_PREVIOUS_KEYS (jobs sealed
 * with that key do not open). Each such job would otherwise fail at once as poison, one by one,
 * with nothing said until the first one ran. Undefined when every key is usable or no job is
 * encrypted. The worker still starts: it runs every other job, and the keys may be fixed before
 * an encrypted job arrives (a restart picks them up).
 *
 * @param encryptedJobs names of the jobs defined with `encrypted: true` on the worker's queues
 * @param env the environment the worker reads its keys from (process.env merged with .env)
 */
export function encryptionNotice(
  encryptedJobs: readonly string[],
  env: Record<string, string | undefined>,
): string | undefined {
  if (encryptedJobs.length === 0) return undefined;
  const keys = loadKeyring(env);
  const jobs = `${encryptedJobs.length === 1 ? 'job' : 'jobs'} ${encryptedJobs.join(', ')}`;
  if (keys.currentProblem !== undefined) {
    const fix =
      keys.currentProblem === APP_KEY_UNSET
        ? 'Set APP_KEY to the key the dispatching processes use (`run key:generate` writes a new one to .env)'
        : 'Set APP_KEY to "base64:" and 32 random bytes in base64, the key the dispatching processes use';
    const one = encryptedJobs.length === 1;
    return `${keys.currentProblem}, and ${jobs} ${one ? 'is' : 'are'} encrypted: this worker cannot open ${one ? 'its payloads, so each such job' : 'their payloads, so each of them'} fails at once. ${fix}, then restart this worker.`;
  }
  if (keys.problems.length > 0) {
    return `${keys.problems.join('; ')}: ${jobs} sealed with that key ${encryptedJobs.length === 1 ? 'fails' : 'fail'} at once. Fix or remove it (comma-separated keys in the form of APP_KEY), then restart this worker.`;
  }
  return undefined;
}
