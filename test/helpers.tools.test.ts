/**
 * The rule of test/helpers/tools.ts, run for real: vitest on a fixture test that needs
 * shellcheck (test/fixtures/tools), with a PATH that has it or not, with CI=true or not.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { REPO_ROOT } from './helpers/cli.js';
import { tempDir, type TempDir } from './helpers/services.js';

const VITEST = path.join(REPO_ROOT, 'node_modules', 'vitest', 'vitest.mjs');
const CONFIG = path.join(REPO_ROOT, 'test', 'fixtures', 'tools', 'vitest.config.ts');
const NOTE = 'shellcheck is not installed (Debian/Ubuntu: apt-get install shellcheck)';

let dir: TempDir;
beforeEach(() => {
  dir = tempDir('jobsmith-tools-');
});
afterEach(() => dir.cleanup());

/** Runs the fixture suite with only `dir` on PATH. */
function vitest(env: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, [VITEST, 'run', '--config', CONFIG], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    env: { PATH: dir.path, NO_COLOR: '1', ...env },
    timeout: 60_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('tests that need an external program', () => {
  it('are skipped where it is missing, with a notice and a note that say what to install', () => {
    const result = vitest();
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(
      `NOTICE: ${NOTE}, so these tests are skipped: test/queue-manager.test.ts checks queue_manager.sh with it.\n`,
    );
    expect(result.stdout).toContain(`↓ runs shellcheck [${NOTE}]`);
    expect(result.stdout.trimEnd().split('\n').slice(-2)).toEqual([
      `Skipped 1 test(s): ${NOTE}`,
      '0 passed, 0 failed, 1 skipped',
    ]);
  }, 60_000);

  it('fail under CI=true where it is missing, naming the package', () => {
    const result = vitest({ CI: 'true' });
    expect(result.code).toBe(1);
    expect(result.stdout + result.stderr).toContain(
      `Error: ${NOTE}; CI=true runs every test, and test/queue-manager.test.ts checks queue_manager.sh with it. ` +
        '.ci/run installs it: run it, or install the package.',
    );
  }, 60_000);

  it('run where it is installed', () => {
    writeFileSync(path.join(dir.path, 'shellcheck'), '#!/bin/sh\necho "fixture shellcheck"\n', {
      mode: 0o755,
    });
    for (const env of [{}, { CI: 'true' }] as Array<Record<string, string>>) {
      const result = vitest(env);
      expect(result.code, result.stdout + result.stderr).toBe(0);
      expect(result.stderr).not.toContain('NOTICE');
      expect(result.stdout.trimEnd().split('\n').at(-1)).toBe('1 passed, 0 failed, 0 skipped');
    }
  }, 60_000);
});
