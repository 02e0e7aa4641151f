/**
 * examples/app/dispatch-from-code.ts runs as its header says (`node --import jiti/register
 * dispatch-from-code.ts` from examples/app) on every backend, and stores what it dispatched.
 * Under jiti's loader hooks it used to crash on Redis (bullmq loaded through the hooks:
 * ERR_VM_MODULE_LINK_FAILURE); see src/util/native-require.ts.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { cliEnv, REPO_ROOT, runCli } from './helpers/cli.js';
import { appEnv } from './helpers/env.js';
import {
  createTestDatabase,
  deleteRedisKeys,
  redisPrefix,
  redisUrl,
  tempDir,
  type TempDir,
  type TestDatabase,
} from './helpers/services.js';
import { describeBackend, type BackendKind } from './reliability/harness.js';

const APP = path.join(REPO_ROOT, 'examples', 'app');

/** Runs the example the way its header says, with `env` on top of a clean environment. */
function runExample(env: Record<string, string>) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, ['--import', 'jiti/register', 'dispatch-from-code.ts'], {
      cwd: APP,
      env: cliEnv(appEnv(env)),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

for (const kind of ['sqlite', 'pgsql', 'redis'] as BackendKind[]) {
  describeBackend(kind, 'examples/app/dispatch-from-code.ts', () => {
    let dir: TempDir;
    let database: TestDatabase | undefined;
    let prefix: string | undefined;
    let env: Record<string, string>;
    beforeEach(async () => {
      dir = tempDir('jobsmith-example-');
      // The SQL storage always lives outside the repository; Redis keys under our own prefix.
      env = {
        DB_DATABASE: path.join(dir.path, 'db.sqlite'),
        LOG_FILE: path.join(dir.path, 'app.log'),
      };
      if (kind === 'pgsql') {
        database = await createTestDatabase();
        env = { ...env, DB_CONNECTION: 'pgsql', DATABASE_URL: database.url };
      }
      if (kind === 'redis') {
        prefix = redisPrefix('jobsmith-example').replace(/:$/, '');
        env = { ...env, QUEUE_CONNECTION: 'redis', REDIS_URL: redisUrl(), REDIS_PREFIX: prefix };
      }
    });
    afterEach(async () => {
      if (prefix) await deleteRedisKeys(redisUrl(), `${prefix}:`);
      await database?.drop();
      dir.cleanup();
    });

    it('runs under node --import jiti/register and stores the four jobs it dispatched', async () => {
      const result = await runExample(env);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/^dispatched welcome\.send #\S+\n$/);
      const size = await runCli(['queue:size', 'default', '--json'], {
        cwd: APP,
        env: appEnv(env),
      });
      expect(size.code, size.stderr).toBe(0);
      expect(JSON.parse(size.stdout)).toEqual([
        { queue: 'default', pending: 3, delayed: 1, reserved: 0, failed: 0, paused: false },
      ]);
    }, 90_000);
  });
}
