/**
 * `run key:generate` as a user runs it (spawned bin/run in a scratch folder): it writes APP_KEY
 * to .env, refuses to replace one without --force, keeps the replaced key in APP_PREVIOUS_KEYS,
 * prints a key with --show without writing; and `run about` shows neither key.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { keyId, parseKey } from '../src/jobs/encryption/keys.js';
import { runCli } from './helpers/cli.js';
import { appEnv } from './helpers/env.js';
import { tempDir, type TempDir } from './helpers/services.js';

const KEY = /^base64:[A-Za-z0-9+/]{43}=$/;
const idOf = (key: string) => keyId(parseKey(key) as Buffer);

let dir: TempDir;
let envFile: string;
beforeEach(() => {
  dir = tempDir('jobsmith-keygen-');
  envFile = path.join(dir.path, '.env');
});
afterEach(() => dir.cleanup());

const run = (args: string[], env: Record<string, string | undefined> = {}) =>
  runCli(args, { cwd: dir.path, env: appEnv(env) });
const appKeyOf = (text: string) => /^APP_KEY=(.*)$/m.exec(text)?.[1];

describe('run key:generate', () => {
  it('creates .env, owner-only, with a new APP_KEY and says which key it wrote', async () => {
    const result = await run(['key:generate']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const key = appKeyOf(readFileSync(envFile, 'utf8'))!;
    expect(key).toMatch(KEY);
    expect(result.stdout).toContain(`Wrote  APP_KEY (key ${idOf(key)}) to ${envFile}`);
    expect(result.stdout).not.toContain(key);
    expect(statSync(envFile).mode & 0o777).toBe(0o600);
  });

  it('refuses to replace an APP_KEY without --force: exit 1, the file unchanged', async () => {
    const old = `base64:${randomBytes(32).toString('base64')}`;
    writeFileSync(envFile, `DB_CONNECTION=sqlite\nAPP_KEY=${old}\n`);
    const result = await run(['key:generate']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `APP_KEY is already set in .env (key ${idOf(old)}); nothing was written.`,
    );
    expect(result.stderr).toContain('Pass --force to replace it');
    expect(result.stderr).not.toContain('    at ');
    expect(readFileSync(envFile, 'utf8')).toBe(`DB_CONNECTION=sqlite\nAPP_KEY=${old}\n`);
  });

  it('refuses when APP_KEY is set in the environment (it wins over .env), even with --force', async () => {
    const inEnv = `base64:${randomBytes(32).toString('base64')}`;
    const result = await run(['key:generate', '--force'], { APP_KEY: inEnv });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      'APP_KEY is set in the environment, which wins over .env: a key written to .env would not apply; nothing was written.',
    );
    expect(result.stderr).not.toContain(inEnv);
    expect(existsSync(envFile)).toBe(false);
  });

  it('with --force, replaces it and keeps the old key in APP_PREVIOUS_KEYS', async () => {
    const old = `base64:${randomBytes(32).toString('base64')}`;
    writeFileSync(envFile, `DB_CONNECTION=sqlite\nAPP_KEY=${old}\n`);
    const result = await run(['key:generate', '--force']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const text = readFileSync(envFile, 'utf8');
    const key = appKeyOf(text)!;
    expect(key).not.toBe(old);
    expect(text).toBe(`DB_CONNECTION=sqlite\nAPP_KEY=${key}\nAPP_PREVIOUS_KEYS=${old}\n`);
    expect(result.stdout).toContain(
      `Moved the old key (${idOf(old)}) to APP_PREVIOUS_KEYS: jobs sealed with it still open.`,
    );
  });

  it('with --show, prints a new key and writes nothing', async () => {
    const result = await run(['key:generate', '--show']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toMatch(KEY);
    expect(existsSync(envFile)).toBe(false);
  });
});

describe('run about with encryption keys', () => {
  it('masks APP_KEY and APP_PREVIOUS_KEYS', async () => {
    const [key, a, b] = [0, 1, 2].map(() => `base64:${randomBytes(32).toString('base64')}`);
    const env = { APP_KEY: key, APP_PREVIOUS_KEYS: `${a},${b}` };
    const json = await run(['about', '--json'], env);
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout).environment).toMatchObject({
      APP_KEY: '***',
      APP_PREVIOUS_KEYS: '***',
    });
    const text = await run(['about'], env);
    for (const secret of [key!, a!, b!]) {
      expect(json.stdout).not.toContain(secret);
      expect(text.stdout).not.toContain(secret);
    }
  });
});
