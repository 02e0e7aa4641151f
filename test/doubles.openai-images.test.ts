/**
 * The fake OpenAI server's image endpoint (test/doubles/openai/images.ts), through the real
 * `openai` client pointed at it (baseURL): the bodies, status codes and headers the client
 * turns into its own results and error classes, as OpenAI's would be.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FAKE_PNG_BASE64, startFakeOpenAi, type FakeOpenAi } from './doubles/openai/index.js';

describe('fake OpenAI: POST /v1/images/generations', () => {
  let api: FakeOpenAi;
  let client: OpenAI;

  beforeAll(async () => {
    api = await startFakeOpenAi();
    client = new OpenAI({ apiKey: api.apiKey, baseURL: api.baseURL, maxRetries: 0 });
  });
  afterAll(() => api.close());
  beforeEach(() => api.reset());

  it('answers a PNG as b64_json, recording the request', async () => {
    const response = await client.images.generate({
      model: 'gpt-image-1',
      prompt: 'A lighthouse at dawn',
      size: '1024x1024',
    });
    expect(response.data).toHaveLength(1);
    const bytes = Buffer.from(response.data![0]!.b64_json!, 'base64');
    expect(bytes.subarray(0, 8)).toEqual(Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]));
    expect(response.data![0]!.b64_json).toBe(FAKE_PNG_BASE64);
    expect(api.images.requests).toMatchObject([
      { model: 'gpt-image-1', prompt: 'A lighthouse at dawn', size: '1024x1024', status: 200 },
    ]);
    // The chat endpoint's requests are apart.
    expect(api.requests).toEqual([]);
  });

  it('answers a URL the same server serves when response_format is url', async () => {
    const response = await client.images.generate({
      model: 'dall-e-3',
      prompt: 'A red kite',
      response_format: 'url',
      n: 2,
    });
    const urls = response.data!.map((d) => d.url!);
    expect(urls).toHaveLength(2);
    expect(new Set(urls).size).toBe(2);
    const download = await fetch(urls[0]!);
    expect(download.status).toBe(200);
    expect(download.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await download.arrayBuffer()).toString('base64')).toBe(FAKE_PNG_BASE64);
  });

  it('refuses a request without a prompt or with a size the models do not make (400)', async () => {
    await expect(client.images.generate({ prompt: ' ' })).rejects.toMatchObject({
      status: 400,
      code: 'missing_required_parameter',
      param: 'prompt',
    });
    await expect(
      client.images.generate({ prompt: 'x', size: '999x999' as '1024x1024' }),
    ).rejects.toMatchObject({ status: 400, code: 'invalid_value', param: 'size' });
  });

  it('gives the scripted errors in order, then succeeds again', async () => {
    api.images.replyNext(1, { kind: 'rate-limit', retryAfter: 3 });
    api.images.replyNext(1, { kind: 'server-error', status: 503 });
    api.images.replyNext(1, { kind: 'insufficient-quota' });
    api.images.replyNext(1, { kind: 'moderation-blocked' });
    const attempt = () => client.images.generate({ model: 'gpt-image-1', prompt: 'p' });

    const limited = await attempt().catch((e: unknown) => e);
    expect(limited).toBeInstanceOf(OpenAI.RateLimitError);
    expect((limited as InstanceType<typeof OpenAI.APIError>).headers?.get('retry-after')).toBe('3');
    expect(await attempt().catch((e: unknown) => e)).toBeInstanceOf(OpenAI.InternalServerError);
    await expect(attempt()).rejects.toMatchObject({ status: 429, code: 'insufficient_quota' });
    const blocked = await attempt().catch((e: unknown) => e);
    expect(blocked).toBeInstanceOf(OpenAI.BadRequestError);
    expect(blocked).toMatchObject({ code: 'moderation_blocked' });
    expect((await attempt()).data).toHaveLength(1);
    expect(api.images.requests.map((r) => r.status)).toEqual([429, 503, 429, 400, 200]);
  });

  it('fails every image request while replyAlways says so, without touching chat replies', async () => {
    api.images.replyAlways({ kind: 'server-error' });
    await expect(client.images.generate({ prompt: 'p' })).rejects.toMatchObject({ status: 500 });
    await expect(client.images.generate({ prompt: 'p' })).rejects.toMatchObject({ status: 500 });
    const chat = await client.chat.completions.create({
      model: 'm',
      messages: [{ role: 'user', content: 'hi' }],
    });
    expect(chat.choices[0]!.message.content).toBe('echo: hi');
    api.images.replyAlways(undefined);
    expect((await client.images.generate({ prompt: 'p' })).data).toHaveLength(1);
  });

  it('answers 401 quoting the key when the key is wrong', async () => {
    const wrong = new OpenAI({ apiKey: 'sk-wrong', baseURL: api.baseURL, maxRetries: 0 });
    const refused = await wrong.images.generate({ prompt: 'p' }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(OpenAI.AuthenticationError);
    expect((refused as Error).message).toContain('Incorrect API key provided: sk-wrong.');
  });

  it('drops the connection on reset, and waits on slow', async () => {
    api.images.replyNext(1, { kind: 'reset' });
    expect(await client.images.generate({ prompt: 'p' }).catch((e: unknown) => e)).toBeInstanceOf(
      OpenAI.APIConnectionError,
    );
    api.images.replyNext(1, { kind: 'slow', delayMs: 500 });
    const quick = new OpenAI({
      apiKey: api.apiKey,
      baseURL: api.baseURL,
      maxRetries: 0,
      timeout: 100,
    });
    expect(await quick.images.generate({ prompt: 'p' }).catch((e: unknown) => e)).toBeInstanceOf(
      OpenAI.APIConnectionTimeoutError,
    );
  });
});
