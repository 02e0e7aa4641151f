/**
 * `run gpt:ask` and `run gpt:requests` as a user runs them: a real worker process answers the
 * queued request through the fake OpenAI server, `gpt:requests` lists the row it stored, and
 * `gpt:ask --now` asks directly, its failure an exit 1 with the reason and the key masked.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type TestApp } from './helpers/app.js';
import { sparePort } from './helpers/spare-port.js';
import { waitFor } from './helpers/wait.js';
import { startFakeOpenAi, type FakeOpenAi } from './doubles/openai/index.js';

const CONFIG = `
import { defineConfig } from 'jobsmith';
export default defineConfig({ gpt: {} });
`;

/** `gpt:ask --json`'s fields, in order, the same with --now (docs/gpt.md). */
const ANSWER_KEYS = [
  'jobId',
  'model',
  'text',
  'finishReason',
  'truncated',
  'usage',
  'latencyMs',
  'attempts',
];

describe('gpt:ask and gpt:requests', () => {
  let app: TestApp;
  let api: FakeOpenAi;
  let env: Record<string, string>;
  beforeAll(async () => {
    app = await createApp('sqlite', CONFIG);
    api = await startFakeOpenAi();
    env = { OPENAI_API_KEY: api.apiKey, OPENAI_BASE_URL: api.baseURL, OPENAI_MODEL: 'fake-model' };
  });
  afterAll(async () => {
    await api?.close();
    await app?.cleanup();
  });

  it('asks through the queue, waits for the worker, and lists the stored request', async () => {
    const worker = app.spawn(['queue:work', '--queue', 'gpt', '--sleep', '100ms'], { env });
    try {
      const asked = await app.run(['gpt:ask', 'hello there', '--json'], { env });
      expect(asked.stderr).toBe('');
      expect(asked.code).toBe(0);
      const answer = JSON.parse(asked.stdout);
      expect(Object.keys(answer)).toEqual(ANSWER_KEYS);
      expect(answer).toMatchObject({
        jobId: expect.any(String),
        model: 'fake-model',
        text: 'echo: hello there',
        finishReason: 'stop',
        truncated: false,
        usage: { promptTokens: 2, completionTokens: 3 },
        latencyMs: expect.any(Number),
        attempts: 1,
      });
    } finally {
      await worker.stop();
    }
    const listed = await app.run(['gpt:requests', '--json'], { env });
    expect(listed.code).toBe(0);
    const rows = JSON.parse(listed.stdout);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      status: 'succeeded',
      model: 'fake-model',
      messages: [{ role: 'user', content: 'hello there' }],
      text: 'echo: hello there',
      error: null,
    });
  }, 30_000);

  it('--now asks directly; a refusal exits 1 with the reason, the key masked', async () => {
    const now = await app.run(['gpt:ask', 'quick one', '--now'], { env });
    expect(now.code).toBe(0);
    expect(now.stdout).toBe('echo: quick one\n');
    const json = await app.run(['gpt:ask', 'quick one', '--now', '--json'], { env });
    expect(json.code).toBe(0);
    const answer = JSON.parse(json.stdout);
    expect(Object.keys(answer)).toEqual(ANSWER_KEYS);
    expect(answer).toMatchObject({ jobId: null, attempts: null, truncated: false });
    api.replyNext(1, { kind: 'unauthorized' });
    const refused = await app.run(['gpt:ask', 'again', '--now'], { env });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(
      'OpenAI refused the key (401 invalid_api_key): Incorrect API key provided: ***',
    );
    expect(refused.stderr).not.toMatch(/\.\. Check/);
    expect(refused.stderr).not.toContain(api.apiKey);
  }, 30_000);

  it('refuses --now with --wait (exit 2): there is no worker to wait for, and nothing is asked', async () => {
    const before = api.requests.length;
    const result = await app.run(['gpt:ask', 'hi', '--now', '--wait', '5s'], { env });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      "option '--now' cannot be used with option '--wait <duration>'",
    );
    expect(api.requests.length).toBe(before);
  });

  it('--now names the setting to fix: a base URL without /v1 (404), a reply slower than OPENAI_TIMEOUT', async () => {
    const base = env.OPENAI_BASE_URL!.replace(/\/v1\/?$/, '');
    const noV1 = await app.run(['gpt:ask', 'hi', '--now'], {
      env: { ...env, OPENAI_BASE_URL: base },
    });
    expect(noV1.code).toBe(1);
    expect(noV1.stderr).toContain(
      `OPENAI_BASE_URL (${base}) does not end in /v1, as OpenAI-compatible servers expect (https://api.openai.com/v1): add it.`,
    );
    api.replyNext(1, { kind: 'slow', delayMs: 1500 });
    const slow = await app.run(['gpt:ask', 'hi', '--now'], {
      env: { ...env, OPENAI_TIMEOUT: '300ms' },
    });
    expect(slow.code).toBe(1);
    expect(slow.stderr).toContain('timed out');
    expect(slow.stderr).toContain(
      'OPENAI_TIMEOUT is 300ms per attempt; raise it for long answers.',
    );
  }, 30_000);

  it('--now: a 429 says it was rate limited and when to retry; no server names the host', async () => {
    api.replyNext(1, { kind: 'rate-limit', retryAfter: 3 });
    const limited = await app.run(['gpt:ask', 'busy', '--now'], { env });
    expect(limited.code).toBe(1);
    expect(limited.stderr).toContain(
      'OpenAI rate-limited the request (429 rate_limit_exceeded): Rate limit reached for fake-model',
    );
    expect(limited.stderr).toContain(
      'Please try again in 3s. --now does not wait or retry: try again in 3s, or ask through the queue, whose worker waits.',
    );
    expect(limited.stderr).not.toContain('waiting');
    const port = await sparePort();
    const refused = await app.run(['gpt:ask', 'anyone?', '--now'], {
      env: { ...env, OPENAI_BASE_URL: `http://127.0.0.1:${port}/v1` },
    });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(
      `Error: GPT request to fake-model could not connect to 127.0.0.1:${port}: ECONNREFUSED (connect ECONNREFUSED 127.0.0.1:${port}). Check OPENAI_BASE_URL (http://127.0.0.1:${port}/v1) and that the server there is up.`,
    );
  }, 30_000);

  it('through the queue: says a worker retries it (with the 500), then that the breaker is open', async () => {
    api.reset();
    const worker = app.spawn(['queue:work', '--queue', 'gpt', '--sleep', '100ms'], { env });
    try {
      await worker.waitForOutput(/processing/, 20_000);
      api.replyNext(1, { kind: 'server-error' });
      const retrying = await app.run(['gpt:ask', 'flaky', '--wait', '1500ms'], { env });
      expect(retrying.code).toBe(1);
      expect(retrying.stderr).toMatch(
        /No answer to GPT job \d+ within 1500ms: a worker took it and attempt 1 of 5 failed: GPT request to fake-model failed \(500 [^)]*\): /,
      );
      expect(retrying.stderr).not.toContain('queue:work');
      // Its retry (2s later) succeeds; the refusals below are then for the next jobs.
      await waitFor(() => api.requests.length === 2, { timeoutMs: 10_000 });
      api.replyNext(1, { kind: 'unauthorized' });
      const refused = await app.run(['gpt:ask', 'who am I', '--wait', '10s'], { env });
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/GPT request \(job \d+\) failed: OpenAI refused the key/);
      const held = await app.run(['gpt:ask', 'later', '--wait', '1s'], { env });
      expect(held.code).toBe(1);
      expect(held.stderr).toMatch(
        /No answer to GPT job \d+ within 1s: the `openai` breaker is open until \d{4}-\d\d-\d\dT[\d:.]+Z, so workers put GPT jobs back without running them/,
      );
      expect(held.stderr).toContain('run breaker:reset openai');
    } finally {
      await worker.stop();
    }
  }, 40_000);

  it('through the queue: a job that failed without running reports its failure at once', async () => {
    // A worker whose app has no GPT job fails it before any handler runs: no gpt_requests row.
    writeFileSync(
      path.join(app.cwd, 'plain.config.ts'),
      [
        "import { defineConfig, defineJob } from 'jobsmith';",
        "const noop = defineJob({ name: 'noop', queue: 'gpt', handle() {} });",
        'export default defineConfig({ jobs: [noop] });',
      ].join('\n'),
    );
    const plainEnv = { ...env, OPENAI_API_KEY: '' };
    const worker = app.spawn(
      ['queue:work', '--queue', 'gpt', '--sleep', '100ms', '--config', 'plain.config.ts'],
      { env: plainEnv },
    );
    try {
      await worker.waitForOutput(/processing/, 20_000);
      const started = Date.now();
      const asked = await app.run(['gpt:ask', 'nobody knows GPT', '--wait', '30s'], { env });
      expect(asked.code).toBe(1);
      expect(asked.stderr).toMatch(/GPT request \(job \d+\) failed/);
      expect(asked.stderr).not.toContain('queue:work --queue');
      expect(Date.now() - started).toBeLessThan(15_000);
    } finally {
      await worker.stop();
    }
  }, 40_000);
});
