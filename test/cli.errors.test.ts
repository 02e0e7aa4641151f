import { realpathSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCliInHost } from './helpers/cli-host.js';
import { appEnv } from './helpers/env.js';
import { tempDir, type TempDir } from './helpers/services.js';

let dir: TempDir;
beforeEach(() => {
  dir = tempDir('jobsmith-errors-');
});
afterEach(() => dir.cleanup());

// Port 1 on the loopback: nothing listens there, so the connection is refused at once.
const UNREACHABLE = appEnv({
  DB_CONNECTION: 'pgsql',
  DATABASE_URL: 'postgres://bob:s3cretpw@127.0.0.1:1/app',
});

describe('an unreachable database', () => {
  it('names the host, the reason and DATABASE_URL, masks the password; exit 1', async () => {
    const result = await runCliInHost(['migrate'], { cwd: dir.path, env: UNREACHABLE });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      'Error: Cannot connect to PostgreSQL at postgres://bob:***@127.0.0.1:1/app: connection refused.\n' +
        'Check DATABASE_URL and that the server is running.\n',
    );
  });

  it('is reported the same way by every command that connects', async () => {
    for (const args of [['migrate:status'], ['migrate:rollback', '--force']]) {
      const result = await runCliInHost(args, { cwd: dir.path, env: UNREACHABLE });
      expect(result.code, args.join(' ')).toBe(1);
      expect(result.stderr.split('\n')[0]).toBe(
        'Error: Cannot connect to PostgreSQL at postgres://bob:***@127.0.0.1:1/app: connection refused.',
      );
    }
  });

  it('adds the stack and its cause with --verbose, still without the password', async () => {
    const result = await runCliInHost(['migrate', '--verbose'], {
      cwd: dir.path,
      env: UNREACHABLE,
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^ConnectionError: Cannot connect to PostgreSQL/m);
    expect(result.stderr).toMatch(/^Caused by: Error: connect ECONNREFUSED 127\.0\.0\.1:1$/m);
    expect(result.stderr).toMatch(/^\s+at checkConnection /m);
    expect(result.stderr).not.toContain('s3cretpw');
  });

  it('names the host that cannot be resolved', async () => {
    const result = await runCliInHost(['migrate'], {
      cwd: dir.path,
      env: appEnv({
        DB_CONNECTION: 'pgsql',
        DATABASE_URL: 'postgres://bob:s3cretpw@no-such-host.invalid:5432/app',
      }),
    });
    expect(result.code).toBe(1);
    // "host not found" where DNS answers; a machine without a resolver gets EAI_AGAIN instead.
    expect(result.stderr).toMatch(
      /^Error: Cannot connect to PostgreSQL at postgres:\/\/bob:\*\*\*@no-such-host\.invalid:5432\/app: (host not found|host name lookup failed \(is DNS reachable\?\))\.\nCheck DATABASE_URL and that the server is running\.\n$/,
    );
  });
});

describe('a SQLite file that cannot be opened', () => {
  it('names the file and DB_DATABASE; exit 1', async () => {
    // A folder where the database file should be: SQLite cannot open it.
    const result = await runCliInHost(['migrate'], {
      cwd: dir.path,
      env: appEnv({ DB_DATABASE: '.' }),
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `Error: Cannot open SQLite database ${realpathSync(dir.path)} (DB_DATABASE): unable to open database file\n` +
        'Check DB_DATABASE: it must name a file, in a folder the user that runs jobsmith can write.\n',
    );
  });
});
