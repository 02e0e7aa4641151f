/**
 * `run` puts .env's variables into process.env before the config loads, so a config (or a
 * handler) that reads process.env sees them, as Laravel's env() sees .env: the docs' own
 * Telegram quick start (`new Bot(process.env.TELEGRAM_BOT_TOKEN!)`) failed with "Empty token!"
 * when the token was in .env only. The real environment still wins.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApp, type TestApp } from './helpers/app.js';

const CONFIG = `
import { defineConfig, defineJob } from 'jobsmith';
const name = process.env.GREETING_JOB;
if (!name) throw new Error('GREETING_JOB is not in process.env');
export const greet = defineJob({ name, async handle() {} });
export default defineConfig({ jobs: [greet] });
`;

describe('.env in process.env for the config', () => {
  let app: TestApp;
  beforeEach(async () => {
    app = await createApp('sqlite', CONFIG);
    writeFileSync(path.join(app.cwd, '.env'), 'GREETING_JOB=hello.from.dotenv\n');
  });
  afterEach(() => app.cleanup());

  it('a config that reads process.env sees a variable set only in .env', async () => {
    const result = await app.run(['about'], { spawn: true });
    expect(result.stderr).not.toContain('GREETING_JOB is not in process.env');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('hello.from.dotenv');
  });

  it('the real environment wins over .env', async () => {
    const result = await app.run(['about'], { env: { GREETING_JOB: 'hello.from.env' } });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('hello.from.env');
    expect(result.stdout).not.toContain('hello.from.dotenv');
  });
});
