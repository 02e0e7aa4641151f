/**
 * `run queue:work` with encrypted jobs (defineJob({ encrypted: true })) and keys it cannot use
 * says so when it starts, naming the keys, the jobs and the fix; with usable keys it says
 * nothing. Before, such a worker started without a word and failed each encrypted job as poison.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { encryptionNotice } from '../src/jobs/encryption/worker-notice.js';
import { createApp, type TestApp } from './helpers/app.js';

const CONFIG = `
import { defineConfig, defineJob } from 'jobsmith';
export const secret = defineJob({ name: 'secret.send', encrypted: true, async handle() {} });
export const plain = defineJob({ name: 'plain.send', async handle() {} });
export default defineConfig({ jobs: [secret, plain] });
`;

const key = () => `base64:${randomBytes(32).toString('base64')}`;

describe('encryptionNotice', () => {
  it('says nothing when no job is encrypted or every key is usable', () => {
    expect(encryptionNotice([], {})).toBeUndefined();
    expect(encryptionNotice(['a'], { APP_KEY: key(), APP_PREVIOUS_KEYS: key() })).toBeUndefined();
  });

  it('names an unset APP_KEY, the encrypted jobs and key:generate', () => {
    const notice = encryptionNotice(['a', 'b'], {});
    expect(notice).toContain('APP_KEY is not set, and jobs a, b are encrypted');
    expect(notice).toContain('`run key:generate`');
    expect(notice).toContain('restart this worker');
  });

  it('names a malformed APP_KEY without quoting it', () => {
    const notice = encryptionNotice(['a'], { APP_KEY: 'base64:c2hvcnQ=' });
    expect(notice).toContain('APP_KEY is not a valid key: it decodes to 5 bytes, not 32');
    expect(notice).toContain('job a is encrypted');
    expect(notice).not.toContain('c2hvcnQ');
  });

  it('names a malformed key of APP_PREVIOUS_KEYS by its place', () => {
    const notice = encryptionNotice(['a'], { APP_KEY: key(), APP_PREVIOUS_KEYS: 'garbage' });
    expect(notice).toContain('key 1 of APP_PREVIOUS_KEYS is not a valid key');
    expect(notice).toContain('job a sealed with that key fails at once');
    expect(notice).not.toContain('garbage');
  });
});

describe('run queue:work with encrypted jobs', () => {
  let app: TestApp;
  beforeEach(async () => {
    app = await createApp('sqlite', CONFIG);
  });
  afterEach(() => app.cleanup());

  const work = (env: Record<string, string | undefined>, extra: string[] = []) =>
    app.run(['queue:work', '--stop-when-empty', ...extra], { env, spawn: true });

  it('says at start that APP_KEY is not set and which jobs cannot be opened, and still runs', async () => {
    const result = await work({});
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(
      'APP_KEY is not set, and job secret.send is encrypted: this worker cannot open its payloads, so each such job fails at once.',
    );
    expect(result.stderr).not.toContain('    at ');
  });

  it('puts the notice on stderr with --json, keeping stdout to the events', async () => {
    const result = await work({}, ['--json']);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('APP_KEY is not set, and job secret.send is encrypted');
    expect(result.stdout).not.toContain('APP_KEY');
  });

  it('names only the encrypted jobs of the queues it serves', async () => {
    const result = await work({}, ['--queue', 'other']);
    expect(result.code).toBe(0);
    expect(result.stdout + result.stderr).not.toContain('APP_KEY');
  });

  it('says nothing of keys when APP_KEY is usable', async () => {
    const result = await work({ APP_KEY: key() });
    expect(result.code).toBe(0);
    expect(result.stdout + result.stderr).not.toContain('APP_KEY');
  });
});
