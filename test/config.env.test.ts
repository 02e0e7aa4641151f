import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseEnv, readEnvironment } from '../src/config/env.js';
import { ConfigError } from '../src/errors.js';
import { runCliInHost } from './helpers/cli-host.js';
import { REPO_ROOT } from './helpers/cli.js';
import { appEnv, JOBSMITH_VARIABLES } from './helpers/env.js';
import { tempDir, type TempDir } from './helpers/services.js';

let dir: TempDir;
beforeEach(() => {
  dir = tempDir('jobsmith-env-');
});
afterEach(() => dir.cleanup());

const run = (args: string[], env: Record<string, string> = {}) =>
  runCliInHost(args, { cwd: dir.path, env: appEnv(env) });

function catchError(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error');
}

const HINT = 'Fix the variable in your environment or in .env.\n';

describe('a wrong environment value', () => {
  it('names DB_CONNECTION, its value and the allowed values; exit 1, no stack trace', async () => {
    const result = await run(['migrate'], { DB_CONNECTION: 'mysql' });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      'Error: Invalid configuration: DB_CONNECTION="mysql" is not valid; expected one of: sqlite, pgsql.\n' +
        HINT,
    );
  });

  it('names QUEUE_LEASE, its value and the durations it accepts', async () => {
    const result = await run(['about'], { QUEUE_LEASE: 'soon' });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      'Error: Invalid configuration: QUEUE_LEASE="soon" is not valid; expected a positive duration: ' +
        'seconds (90) or a number with a unit: 500ms, 30s, 5m, 2h, 1d.\n' +
        HINT,
    );
  });

  it('refuses a QUEUE_LEASE no timer can wait (90d), giving the maximum', async () => {
    const result = await run(['about'], { QUEUE_LEASE: '90d' });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      'Error: Invalid configuration: QUEUE_LEASE="90d" is not valid; expected a duration at most 2147483647ms (about 24.8 days), the longest a timer can wait.\n' +
        HINT,
    );
  });

  it('refuses a REDIS_URL whose database is not a whole number, before anything connects', async () => {
    const result = await run(['queue:size', '--connection', 'redis'], {
      REDIS_URL: 'redis://127.0.0.1:6379/abc',
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      'Error: Invalid configuration: REDIS_URL="redis://127.0.0.1:6379/abc" is not valid; expected a redis:// or rediss:// URL whose database (the path, or ?db=) is a whole number, such as redis://127.0.0.1:6379/0.\n' +
        HINT,
    );
  });

  it('refuses a MAIL_FROM with no address in it, which would send with an empty sender', async () => {
    const result = await run(['about'], { MAIL_FROM: 'notanaddress' });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      'Error: Invalid configuration: MAIL_FROM="notanaddress" is not valid; expected an address like ada@example.com or "Ada <ada@example.com>".\n' +
        HINT,
    );
  });

  it('reports every wrong variable at once', async () => {
    const result = await run(['about'], { LOG_LEVEL: 'loud', MIGRATE_ON_START: 'maybe' });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      'Error: Invalid configuration: MIGRATE_ON_START="maybe" is not valid; expected one of: true, false, 1, 0, yes, no. ' +
        'LOG_LEVEL="loud" is not valid; expected one of: fatal, error, warn, info, debug, trace, silent.\n' +
        HINT,
    );
  });

  it('says DB_CONNECTION=pgsql needs DATABASE_URL', async () => {
    const result = await run(['migrate'], { DB_CONNECTION: 'pgsql' });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      'Error: Invalid configuration: DB_CONNECTION=pgsql needs DATABASE_URL.\n' +
        'Set DATABASE_URL, for example postgres://postgres@127.0.0.1:5432/app.\n',
    );
  });

  it('shows the stack only with --verbose', async () => {
    const quiet = await run(['about'], { DB_CONNECTION: 'mysql' });
    expect(quiet.stderr).not.toMatch(/^\s+at /m);
    const verbose = await run(['about', '--verbose'], { DB_CONNECTION: 'mysql' });
    expect(verbose.code).toBe(1);
    expect(verbose.stderr).toMatch(/^ConfigError: Invalid configuration: DB_CONNECTION="mysql"/m);
    expect(verbose.stderr).toMatch(/^\s+at parseEnv /m);
  });
});

describe('.env in the working directory', () => {
  it('is read', async () => {
    writeFileSync(path.join(dir.path, '.env'), 'DB_CONNECTION=mysql\n');
    const result = await run(['about']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('DB_CONNECTION="mysql" is not valid');
  });

  it('loses to the real environment', async () => {
    writeFileSync(
      path.join(dir.path, '.env'),
      '# comment\nLOG_LEVEL=debug\nDB_DATABASE="from-dotenv.sqlite"\nDB_CONNECTION=mysql\n',
    );
    const result = await run(['about', '--json'], { LOG_LEVEL: 'warn', DB_CONNECTION: 'sqlite' });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const { environment } = JSON.parse(result.stdout);
    expect(environment.LOG_LEVEL).toBe('warn');
    expect(environment.DB_CONNECTION).toBe('sqlite');
    expect(environment.DB_DATABASE).toBe('from-dotenv.sqlite');
  });

  it('is ignored in any other folder', async () => {
    const sub = path.join(dir.path, 'sub');
    await import('node:fs').then((fs) => fs.mkdirSync(sub));
    writeFileSync(path.join(dir.path, '.env'), 'DB_CONNECTION=mysql\n');
    const result = await runCliInHost(['about', '--json'], { cwd: sub, env: appEnv() });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).environment.DB_CONNECTION).toBe('sqlite');
  });
});

describe('parseEnv', () => {
  it('says what is off about a bot token, since its value is masked in the message', () => {
    const problem = (token: string) => {
      try {
        parseEnv({ TELEGRAM_BOT_TOKEN: token });
      } catch (error) {
        return (error as Error).message;
      }
      return 'accepted';
    };
    // Telegram's own documentation example is one character short of a real token.
    expect(problem('123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11')).toContain(
      'the part after the colon has 34 characters.',
    );
    expect(problem('AAH4bcdefghijklmnopqrstuvwxyz0123456')).toContain('it has no colon');
    expect(problem('12a:' + 'A'.repeat(35))).toContain('not the bot id (digits)');
    expect(problem('123:' + 'A'.repeat(34) + '!')).toContain('characters other than letters');
    expect(problem('123456789:' + 'A'.repeat(35))).toBe('accepted');
  });

  it('gives the documented defaults', () => {
    expect(parseEnv({})).toEqual({
      DB_CONNECTION: 'sqlite',
      DB_DATABASE: 'storage/database.sqlite',
      MIGRATE_ON_START: true,
      QUEUE_CONNECTION: 'database',
      QUEUE_LEASE: 60_000,
      REDIS_URL: 'redis://127.0.0.1:6379',
      REDIS_PREFIX: 'jobsmith',
      LOG_LEVEL: 'info',
      LOG_FILE: 'storage/logs/app.log',
      TELEMETRY_ENABLED: false,
      METRICS_HOST: '127.0.0.1',
      METRICS_RETENTION: 604_800_000,
      DASHBOARD_READ_ONLY: false,
      TELEGRAM_API_ROOT: 'https://api.telegram.org',
      OPENAI_BASE_URL: 'https://api.openai.com/v1',
      OPENAI_MODEL: 'gpt-4o-mini',
      OPENAI_TIMEOUT: 30_000,
      MAIL_TIMEOUT: 10_000,
    });
  });

  it('treats an empty variable as unset', () => {
    expect(parseEnv({ DB_CONNECTION: '', LOG_LEVEL: '' })).toMatchObject({
      DB_CONNECTION: 'sqlite',
      LOG_LEVEL: 'info',
    });
  });

  it('parses durations and booleans', () => {
    expect(
      parseEnv({ QUEUE_LEASE: '5m', MIGRATE_ON_START: 'no', TELEMETRY_ENABLED: 'ON' }),
    ).toMatchObject({ QUEUE_LEASE: 300_000, MIGRATE_ON_START: false, TELEMETRY_ENABLED: true });
  });

  it('takes a Redis database from the path or ?db=, and nothing else', () => {
    for (const ok of ['redis://h:6379', 'redis://h:6379/', 'redis://h/15', 'rediss://h?db=2']) {
      expect(parseEnv({ REDIS_URL: ok }).REDIS_URL).toBe(ok);
    }
    for (const bad of ['redis://h/abc', 'redis://h/1/2', 'redis://h/-1', 'redis://h?db=x']) {
      expect(catchError(() => parseEnv({ REDIS_URL: bad })).message).toContain(
        `REDIS_URL="${bad}" is not valid`,
      );
    }
  });

  it('takes QUEUE_LEASE up to the longest timer, and no longer', () => {
    expect(parseEnv({ QUEUE_LEASE: '2147483647ms' }).QUEUE_LEASE).toBe(2_147_483_647);
    expect(catchError(() => parseEnv({ QUEUE_LEASE: '2147483648ms' }))).toBeInstanceOf(ConfigError);
  });

  it('rejects a DATABASE_URL that is not a postgres:// URL', () => {
    const error = catchError(() => parseEnv({ DATABASE_URL: 'mysql://db/app' }));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toBe(
      'Invalid configuration: DATABASE_URL="mysql://db/app" is not valid; expected a URL starting with postgres:// or postgresql://.',
    );
  });

  it('says what is wrong with a URL of the right scheme that does not parse (a port that is not a number)', () => {
    const error = catchError(() => parseEnv({ MAIL_URL: 'smtp://127.0.0.1:abc' }));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toBe(
      'Invalid configuration: MAIL_URL="smtp://127.0.0.1:abc" is not valid; expected a URL starting with smtp:// or smtps:// that parses: a port is a number from 1 to 65535, and an @, : or / in the user or password is percent-encoded (%40, %3A, %2F).',
    );
  });

  it('takes METRICS_PORT and METRICS_HOST, and names a bad one with what it accepts', () => {
    expect(parseEnv({ METRICS_PORT: '9401', METRICS_HOST: '::1' })).toMatchObject({
      METRICS_PORT: 9401,
      METRICS_HOST: '::1',
    });
    expect(catchError(() => parseEnv({ METRICS_PORT: '0' })).message).toBe(
      'Invalid configuration: METRICS_PORT="0" is not valid; expected a port number from 1 to 65535.',
    );
    expect(catchError(() => parseEnv({ METRICS_HOST: 'http://0.0.0.0' })).message).toBe(
      'Invalid configuration: METRICS_HOST="http://0.0.0.0" is not valid; expected a host name or IP address to listen on, such as 0.0.0.0 or ::1 (no brackets).',
    );
  });

  it('refuses a DASHBOARD_TOKEN too short to guess at, saying how to make one, never showing it', () => {
    const message = catchError(() => parseEnv({ DASHBOARD_TOKEN: 'hunter2' })).message;
    expect(message).toContain('DASHBOARD_TOKEN');
    expect(message).toContain('at least 16 characters (run: openssl rand -hex 32)');
    // Not even here, before any CLI masking: an app embedding the dashboard logs this error.
    expect(message).not.toContain('hunter2');
    expect(parseEnv({ DASHBOARD_TOKEN: 'a'.repeat(32), DASHBOARD_READ_ONLY: 'yes' })).toMatchObject(
      {
        DASHBOARD_TOKEN: 'a'.repeat(32),
        DASHBOARD_READ_ONLY: true,
      },
    );
  });

  it('is mirrored by the README configuration table and the test helpers', () => {
    const all = Object.keys(parseEnv({ DATABASE_URL: 'postgres://u@h/d' }));
    const readme = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
    for (const name of [...all, 'JOBSMITH_CONFIG']) {
      expect(readme, `README.md does not document ${name}`).toMatch(
        new RegExp(`^\\| \`${name}\` +\\|`, 'm'),
      );
      expect(JOBSMITH_VARIABLES).toContain(name);
    }
  });
});

describe('readEnvironment', () => {
  it('puts the process environment over .env', () => {
    writeFileSync(path.join(dir.path, '.env'), 'A=file\nB=file\n');
    expect(readEnvironment(dir.path, { B: 'process' })).toMatchObject({ A: 'file', B: 'process' });
  });
});
