/**
 * `run gpt:ask` and `run gpt:requests` as a user runs them: a real worker process answers the
 * queued request through the fake OpenAI server, `gpt:requests` lists the row it stored, and
 * `gpt:ask --now` asks directly, its failure an exit 1 with the reason and the key masked.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type TestApp } from './helpers/app.js';
import { startFakeOpenAi, type FakeOpenAi } from './doubles/openai/index.js';

const CONFIG = `
import { defineConfig } from 'jobsmith';
export default defineConfig({ gpt: {} });
`;

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
      expect(JSON.parse(asked.stdout)).toMatchObject({
        model: 'fake-model',
        text: 'echo: hello there',
        finishReason: 'stop',
        usage: { promptTokens: 2, completionTokens: 3 },
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
    api.replyNext(1, { kind: 'unauthorized' });
    const refused = await app.run(['gpt:ask', 'again', '--now'], { env });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(
      'OpenAI refused the key (401 invalid_api_key): Incorrect API key provided: ***',
    );
    expect(refused.stderr).not.toContain(api.apiKey);
  }, 30_000);
});
