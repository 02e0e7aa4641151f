import type { App } from '../cli/app.js';
import { APP_KEY_UNSET, loadKeyring } from '../jobs/encryption/keys.js';
import { fail, ok, skip, type CheckResult } from './check.js';

/**
 * `run doctor`'s Encryption line: when a job is encrypted (defineJob({ encrypted: true })),
 * APP_KEY must be a valid key and every key of APP_PREVIOUS_KEYS too, else dispatching fails
 * (no APP_KEY) or jobs sealed with an old key fail when they run. Keys are shown by id only.
 */
export async function checkEncryption(app: App): Promise<CheckResult> {
  const name = 'Encryption';
  let jobs;
  try {
    jobs = (await app.registry()).all();
  } catch {
    return skip(name, 'needs a valid configuration');
  }
  const encrypted = jobs.filter((j) => j.encrypted).map((j) => j.name);
  if (encrypted.length === 0) return skip(name, 'not used (no job has encrypted: true)');
  const keys = loadKeyring(app.rawEnv);
  const problems = [keys.currentProblem, ...keys.problems].filter((p) => p !== undefined);
  if (problems.length > 0) {
    return fail(
      name,
      `${problems.join('; ')} (encrypted jobs: ${encrypted.join(', ')})`,
      keys.currentProblem === APP_KEY_UNSET
        ? 'Run `run key:generate` to write APP_KEY to .env (or set it to "base64:" and 32 random bytes in base64), the same for every process.'
        : keys.currentProblem
          ? 'Set APP_KEY to "base64:" and 32 random bytes in base64 (`run key:generate --force` replaces it in .env), the same for every process.'
          : 'Fix or remove that key of APP_PREVIOUS_KEYS (comma-separated keys in the form of APP_KEY).',
    );
  }
  const previous = keys.all.filter((k) => k !== keys.current).map((k) => k.id);
  return ok(
    name,
    `APP_KEY ${keys.current!.id}${previous.length > 0 ? `, APP_PREVIOUS_KEYS ${previous.join(', ')}` : ''} for ${encrypted.length} encrypted job(s)`,
  );
}
