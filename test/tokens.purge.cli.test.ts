/**
 * `run purge:tokens` the way cron runs it (two spawned CLIs), and what it accepts: its flags and
 * the config's `tokens` section, checked in process.
 */
import { mkdirSync, realpathSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import purgeTokens from '../commands/purge-tokens.js';
import { loadConfig } from '../src/config/load-config.js';
import { INTEGRATION_SECTIONS } from '../src/integrations.js';
import { resolveSchedule } from '../src/schedule/resolve.js';
import { runCli } from './helpers/cli.js';
import { appEnv } from './helpers/env.js';
import { tempDir, type TempDir } from './helpers/services.js';

let dir: TempDir;
let cwd: string;
beforeEach(() => {
  dir = tempDir('jobsmith-purge-tokens-');
  cwd = realpathSync(dir.path);
});
afterEach(() => dir.cleanup());

const writeConfig = (tokens: string) =>
  writeFileSync(path.join(cwd, 'jobsmith.config.ts'), `export default { tokens: ${tokens} };\n`);

describe('run purge:tokens', () => {
  it("deletes the expired tokens of the app's own SQLite file and prints JSON", async () => {
    mkdirSync(path.join(cwd, 'data'));
    const file = path.join(cwd, 'data', 'app.sqlite');
    const app = new Database(file);
    app.exec('create table sessions (id integer primary key, token text, valid_until text)');
    const insert = app.prepare('insert into sessions (token, valid_until) values (?, ?)');
    for (let i = 0; i < 20; i++) {
      insert.run(`t${i}`, new Date(Date.now() + (i % 2 ? 1 : -1) * 3_600_000).toISOString());
    }
    app.close();
    writeConfig(`{ table: 'sessions', expiresAt: 'valid_until', connection: 'data/app.sqlite' }`);

    const result = await runCli(['purge:tokens', '--json', '--batch', '3'], {
      cwd,
      env: appEnv({ QUEUE_CONNECTION: 'redis' }),
    });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const json = JSON.parse(result.stdout);
    expect(json).toEqual({
      table: 'sessions',
      expiresAt: 'valid_until',
      database: file,
      cutoff: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      olderThanMs: 0,
      dryRun: false,
      expired: 10,
      deleted: 10,
      batches: 4,
    });
    const after = new Database(file, { readonly: true });
    expect(after.prepare('select count(*) as n from sessions').get()).toEqual({ n: 10 });
    // Opened as the app left it: no switch to WAL.
    expect(after.pragma('journal_mode', { simple: true })).toBe('delete');
    after.close();
  });

  it("exits 1 naming tokens.table when jobsmith's storage has no such table", async () => {
    const result = await runCli(['purge:tokens', '--dry-run'], { cwd, env: appEnv() });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      `Error: tokens.table: table refresh_tokens does not exist in ${cwd}/storage/database.sqlite.\n` +
        'Set tokens.table in jobsmith.config.ts to the table of your refresh tokens (and tokens.connection when it is in another database).\n',
    );
  });
});

describe('purge:tokens in the schedule', () => {
  it('is a command a schedule entry may run, as docs/operations.md shows it', async () => {
    writeFileSync(
      path.join(cwd, 'jobsmith.config.ts'),
      `import { dailyAt, defineConfig } from 'jobsmith';
export default defineConfig({
  schedule: [
    {
      name: 'purge-tokens',
      cron: dailyAt('03:00'),
      command: 'purge:tokens --older-than 1d',
      withoutOverlapping: true,
    },
  ],
});
`,
    );
    const { file, config } = await loadConfig(cwd, undefined, INTEGRATION_SECTIONS);
    const [entry] = resolveSchedule(config, file);
    expect(entry).toMatchObject({ name: 'purge-tokens', cron: '0 3 * * *' });
    expect(entry!.action).toEqual({
      type: 'command',
      args: ['purge:tokens', '--older-than', '1d'],
    });
  });
});

describe('purge:tokens input', () => {
  const parse = (...args: string[]) =>
    purgeTokens().exitOverride().parseAsync(args, { from: 'user' });

  it.each([
    [['--batch', '0'], '--batch must be a whole number from 1 to 100000, got "0".'],
    [['--batch', '100001'], '--batch must be a whole number from 1 to 100000, got "100001".'],
    [
      ['--older-than', 'a week'],
      '--older-than must be a duration, seconds (90) or a number with a unit: 500ms, 30s, 5m, 2h, 1d; got "a week".',
    ],
  ])('%j is a usage error', async (args, message) => {
    await expect(parse(...args)).rejects.toMatchObject({
      name: 'UsageError',
      exitCode: 2,
      message,
    });
  });

  it.each([
    [
      `{ tabel: 'x' }`,
      'unknown field "tokens.tabel"; the fields are table, expiresAt, connection.',
    ],
    [
      `{ table: 'refresh tokens' }`,
      'tokens.table must be a table name, optionally schema.table, of letters, digits and _ (not starting with a digit, at most 63); got "refresh tokens".',
    ],
    [
      `{ expiresAt: 'expires-at' }`,
      'tokens.expiresAt must be a column name of letters, digits and _ (not starting with a digit, at most 63); got "expires-at".',
    ],
    [
      `{ connection: 'mysql://db/app' }`,
      'tokens.connection must be a postgres:// or postgresql:// URL, or the path of an SQLite file; got another URL.',
    ],
    [
      `'refresh_tokens'`,
      "`tokens` must be an object: { table: 'refresh_tokens', expiresAt: 'expires_at', connection }.",
    ],
  ])('config tokens: %s is refused', async (tokens, problem) => {
    writeConfig(tokens);
    await expect(loadConfig(cwd, undefined, INTEGRATION_SECTIONS)).rejects.toMatchObject({
      name: 'ConfigError',
      message: `Invalid config in ${path.join(cwd, 'jobsmith.config.ts')}: ${problem}`,
    });
  });
});
