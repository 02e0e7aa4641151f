import { spawn } from 'node:child_process';
import { chmodSync, realpathSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CLI_PATH, cliEnv } from './helpers/cli.js';
import { appEnv } from './helpers/env.js';
import {
  READ_ONLY_PROBLEM,
  readOnlyCommand,
  readOnlyUnsupported,
  readOnlyWay,
} from './helpers/read-only.js';
import { tempDir, type TempDir } from './helpers/services.js';

/*
 * A DB_DATABASE or LOG_FILE in a folder that cannot be written (issue 11, item 8): the message
 * names the setting, the path, the reason and the fix. Real read-only folders, made as
 * test/helpers/read-only.ts says.
 */

const CONFIG = `
import { defineConfig, defineJob } from 'jobsmith';
export default defineConfig({ jobs: [defineJob({ name: 'mark.job', async handle() {} })] });
`;

/** Each test runs `bin/run` several times: generous on a loaded machine. */
const SLOW = 120_000;

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

describe.skipIf(readOnlyUnsupported() !== undefined)(
  'a storage folder that cannot be written',
  () => {
    let dir: TempDir;
    let cwd: string;
    let ro: string;
    beforeEach(() => {
      dir = tempDir('jobsmith-ro-');
      cwd = realpathSync(dir.path);
      ro = path.join(cwd, 'ro');
      writeFileSync(path.join(cwd, 'jobsmith.config.ts'), CONFIG);
    });
    afterEach(() => {
      if (readOnlyWay === 'mode') chmodSync(ro, 0o755);
      dir.cleanup();
    });

    /** Runs `run ARGS` with the folder `ro` read-only. */
    function run(args: string[], env: Record<string, string | undefined>): Promise<Result> {
      const [command, ...rest] = readOnlyCommand(ro, [process.execPath, CLI_PATH, ...args]);
      return new Promise((resolve) => {
        const child = spawn(command!, rest, {
          cwd,
          env: cliEnv(appEnv(env)),
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
        child.on('close', (code) => {
          clearTimeout(timer);
          resolve({ code, stdout, stderr });
        });
      });
    }

    it(
      'names DB_DATABASE, the path and the fix when the database’s folder cannot be made',
      async () => {
        const file = path.join(ro, 'storage', 'database.sqlite');
        const result = await run(['queue:size'], { DB_DATABASE: 'ro/storage/database.sqlite' });
        expect(result.code).toBe(1);
        expect(result.stderr).toBe(
          `Error: Cannot create the SQLite database ${file} (DB_DATABASE): ${READ_ONLY_PROBLEM}.\n` +
            `Set DB_DATABASE to a file in a writable folder, or let the user that runs jobsmith write ${path.dirname(file)}.\n`,
        );
      },
      SLOW,
    );

    it(
      'names DB_DATABASE when the database’s folder exists but is read-only',
      async () => {
        const file = path.join(ro, 'database.sqlite');
        const result = await run(['queue:dispatch', 'mark.job', '--payload', '{}'], {
          DB_DATABASE: 'ro/database.sqlite',
        });
        expect(result.code).toBe(1);
        expect(result.stderr).toBe(
          `Error: Cannot create the SQLite database ${file} (DB_DATABASE): ${READ_ONLY_PROBLEM}.\n` +
            `Set DB_DATABASE to a file in a writable folder, or let the user that runs jobsmith write ${ro}.\n`,
        );
      },
      SLOW,
    );

    it(
      'names LOG_FILE, the path and the fix when the worker cannot write its log',
      async () => {
        const file = path.join(ro, 'logs', 'app.log');
        const result = await run(['queue:work', '--stop-when-empty'], {
          LOG_FILE: 'ro/logs/app.log',
        });
        expect(result.code).toBe(1);
        expect(result.stderr).toBe(
          `Error: Cannot write the log file ${file} (LOG_FILE): ${READ_ONLY_PROBLEM}.\n` +
            `Set LOG_FILE to a file in a writable folder, or let the user that runs jobsmith write ${path.dirname(file)}.\n`,
        );
      },
      SLOW,
    );

    it(
      'dispatches without touching an unwritable LOG_FILE: commands that log nothing never open it',
      async () => {
        const result = await run(['queue:dispatch', 'mark.job', '--payload', '{}'], {
          LOG_FILE: 'ro/logs/app.log',
        });
        expect([result.code, result.stderr]).toEqual([0, '']);
        expect(result.stdout).toMatch(/^Dispatched {2}mark\.job #1\n$/);
      },
      SLOW,
    );

    it(
      'says how to fix a read-only LOG_FILE in run doctor',
      async () => {
        const result = await run(['doctor'], { LOG_FILE: 'ro/logs/app.log' });
        expect(result.code).toBe(1);
        expect(result.stdout).toMatch(/Log folder/);
        expect(result.stdout).toContain('set LOG_FILE');
      },
      SLOW,
    );
  },
);
