/**
 * The content pipeline's image request (examples/content-pipeline/jobs/image-api.ts) against
 * the fake OpenAI server: the bytes it returns, and what each failure becomes for the job (the
 * classification jobsmith's gpt.complete uses: wait, fail at once, or retry).
 */
import { Permanent, RetryAfter } from 'jobsmith';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { generateImage, type ImageRequest } from '../examples/content-pipeline/jobs/image-api.js';
import { FAKE_PNG_BASE64, startFakeOpenAi, type FakeOpenAi } from './doubles/openai/index.js';

describe('content pipeline: one image request', () => {
  let api: FakeOpenAi;
  const request = (extra: Partial<ImageRequest> = {}): ImageRequest => ({
    prompt: 'A lighthouse',
    model: 'gpt-image-1',
    size: '1024x1024',
    apiKey: api.apiKey,
    baseURL: api.baseURL,
    timeoutMs: 5000,
    ...extra,
  });

  beforeAll(async () => {
    api = await startFakeOpenAi();
  });
  afterAll(() => api.close());
  beforeEach(() => api.reset());

  it('returns the PNG of a GPT image model, asking no response_format', async () => {
    const image = await generateImage(request());
    expect(image.bytes.toString('base64')).toBe(FAKE_PNG_BASE64);
    expect(image.extension).toBe('png');
    expect(api.images.requests[0]!.body).toEqual({
      model: 'gpt-image-1',
      prompt: 'A lighthouse',
      n: 1,
      size: '1024x1024',
    });
  });

  it('asks a DALL·E model for b64_json, and keeps its revised prompt', async () => {
    api.images.replyNext(1, { kind: 'success', revisedPrompt: 'A tall lighthouse' });
    const image = await generateImage(request({ model: 'dall-e-3' }));
    expect(image.revisedPrompt).toBe('A tall lighthouse');
    expect(api.images.requests[0]!.body.response_format).toBe('b64_json');
  });

  it('turns a 429 into a wait of its retry-after, spending no attempt', async () => {
    api.images.replyNext(1, { kind: 'rate-limit', retryAfter: 7 });
    const error = await generateImage(request()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RetryAfter);
    expect((error as RetryAfter).seconds).toBe(7);
  });

  it('fails at once on a refused key, an exhausted quota or a refused prompt', async () => {
    for (const [reply, name, text] of [
      [{ kind: 'unauthorized' }, 'GptRefusedError', 'OpenAI refused the key (401 invalid_api_key)'],
      [
        { kind: 'insufficient-quota' },
        'GptRefusedError',
        'OpenAI refused the request for want of quota',
      ],
      [
        { kind: 'moderation-blocked' },
        'GptRequestError',
        'GPT request to gpt-image-1 was refused (400 moderation_blocked)',
      ],
    ] as const) {
      api.images.replyNext(1, reply);
      const error = await generateImage(request()).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(Permanent);
      expect(error).toMatchObject({ name });
      expect((error as Error).message).toContain(text);
    }
  });

  it('retries a 5xx, a timeout or a dropped connection (upstream failures the breaker counts)', async () => {
    api.images.replyNext(1, { kind: 'server-error', status: 502 });
    api.images.replyNext(1, { kind: 'slow', delayMs: 500 });
    api.images.replyNext(1, { kind: 'reset' });
    for (const text of ['failed (502', 'timed out', 'could not connect']) {
      const error = await generateImage(request({ timeoutMs: 200 })).catch((e: unknown) => e);
      expect(error).not.toBeInstanceOf(Permanent);
      expect(error).toMatchObject({ name: 'GptUpstreamError' });
      expect((error as Error).message).toContain(text);
    }
  });

  it('gives the job signal’s reason once the job is aborted', async () => {
    api.images.replyNext(1, { kind: 'slow', delayMs: 2000 });
    const controller = new AbortController();
    const reason = new Error('job timed out');
    setTimeout(() => controller.abort(reason), 50);
    await expect(generateImage(request({ signal: controller.signal }))).rejects.toBe(reason);
  });
});
