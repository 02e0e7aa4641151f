import { App, type GlobalOptions } from '../cli/app.js';
import { JobsmithError } from '../errors.js';
import { fail, skip, type CheckResult } from './check.js';
import { checkConfig, checkLogFolder, checkSupervisor, checkTimeouts } from './checks.js';
import { checkEncryption } from './encryption-check.js';
import { checkRedis } from './redis-check.js';
import { checkDatabase, checkMigrations } from './storage-checks.js';

const AFTER_CONFIG = [
  'Database',
  'Migrations',
  'Redis',
  'Log folder',
  'Job timeouts',
  'Encryption',
  'Supervisor',
];

/**
 * Runs every check in order and returns their results. An environment that does not parse
 * fails the configuration check, and the checks that need it are skipped.
 */
export async function runDoctor(
  cwd: string,
  options: GlobalOptions & { supervisor?: string },
): Promise<CheckResult[]> {
  let app: App;
  try {
    app = new App(cwd, options);
  } catch (error) {
    return [
      fail(
        'Configuration',
        (error as Error).message,
        (error instanceof JobsmithError && error.hint) || 'Fix the environment or .env.',
      ),
      ...AFTER_CONFIG.map((name) => skip(name, 'needs a valid configuration')),
    ];
  }
  try {
    const results = [await checkConfig(app)];
    const { result, storage } = await checkDatabase(app);
    results.push(result, await checkMigrations(app, storage));
    results.push(await checkRedis(app));
    results.push(checkLogFolder(app));
    results.push(await checkTimeouts(app));
    results.push(await checkEncryption(app));
    results.push(checkSupervisor(app, options.supervisor));
    return results;
  } finally {
    await app.close();
  }
}
