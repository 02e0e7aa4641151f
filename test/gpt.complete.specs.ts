/**
 * The `gpt.complete` job on one backend, in process: a worker of the `gpt` queue makes each
 * request with the real `openai` client against the fake OpenAI server, and each error class of
 * docs/gpt.md ends as documented, in gpt_requests, in failed_jobs and on the `openai` breaker.
 * Called by gpt.complete.<backend>.test.ts.
 */
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { describeBackend, type AppBackend } from './helpers/app.js';
import { waitFor } from './helpers/wait.js';
import { createGptApp, OPENAI_TIMEOUT_MS, type GptApp } from './gpt.fixture.js';

const PROMPT = { prompt: 'Say hi' };
const JSON_FORMAT = { type: 'json_object' } as const;

export function gptCompleteSpecs(backend: AppBackend): void {
  describeBackend(backend, 'gpt.complete', () => {
    let g: GptApp;
    beforeAll(async () => {
      g = await createGptApp(backend);
    }, 30_000);
    afterAll(async () => g?.cleanup());
    beforeEach(async () => {
      g.api.reset();
      await (await g.app.queues().get()).flow().breakers.reset('openai');
    });

    const breaker = async () =>
      (await (await g.app.queues().get()).flow().breakers.list()).find((b) => b.name === 'openai');
    const failedJob = async (id: string) =>
      (await g.app.db()).knex('failed_jobs').where({ original_id: id }).first('exception');

    it('stores the reply, its tokens and response time, and hands the result on', async () => {
      const id = await g.ask({
        prompt: 'Summarise the report',
        onResult: 'summary.save',
        metadata: { postId: 7 },
      });
      const row = await g.settled(id);
      expect(row).toMatchObject({
        status: 'succeeded',
        model: 'fake-model',
        attempts: 1,
        responseText: 'echo: Summarise the report',
        finishReason: 'stop',
        promptTokens: 3,
        completionTokens: 4,
        error: null,
        metadata: '{"postId":7}',
      });
      expect(JSON.parse(row.prompt)).toEqual([{ role: 'user', content: 'Summarise the report' }]);
      expect(row.latencyMs).toBeGreaterThanOrEqual(0);
      expect(row.finishedAt).not.toBeNull();
      const expected = {
        jobId: id,
        model: 'fake-model',
        text: 'echo: Summarise the report',
        finishReason: 'stop',
        truncated: false,
        usage: { promptTokens: 3, completionTokens: 4 },
        metadata: { postId: 7 },
      };
      expect(g.hooked.find((r) => r.jobId === id)).toMatchObject(expected);
      await waitFor(() => g.saved.some((r) => (r as { jobId: string }).jobId === id));
      expect(g.saved.find((r) => (r as { jobId: string }).jobId === id)).toMatchObject(expected);
      // The request: the client's own retries off, our model, the messages as given.
      expect(g.api.requests[0]!.body).toMatchObject({
        model: 'fake-model',
        messages: [{ role: 'user', content: 'Summarise the report' }],
      });
    });

    it('429 with retry-after: waits that long, spends no attempt, then succeeds', async () => {
      g.api.replyNext(2, { kind: 'rate-limit', retryAfter: 0.3 });
      // One try: a 429 that spent it would fail the job.
      const id = await g.ask(PROMPT, { tries: 1 });
      const row = await g.settled(id);
      expect(row).toMatchObject({ status: 'succeeded', attempts: 1 });
      const [a, b, c] = g.api.requests.map((r) => r.at);
      expect(g.api.requests.map((r) => r.status)).toEqual([429, 429, 200]);
      expect(b! - a!).toBeGreaterThanOrEqual(300);
      expect(c! - b!).toBeGreaterThanOrEqual(300);
      expect((await breaker())?.failures ?? 0).toBe(0);
    });

    it.each([
      [
        'insufficient_quota',
        { kind: 'insufficient-quota' },
        'OpenAI refused the request for want of quota (429 insufficient_quota)',
      ],
      ['401', { kind: 'unauthorized' }, 'OpenAI refused the key (401 invalid_api_key)'],
      [
        '403',
        { kind: 'forbidden' },
        'OpenAI refused the key (403 unsupported_country_region_territory)',
      ],
    ] as const)('%s: fails at once and opens the breaker', async (_name, reply, message) => {
      g.api.replyNext(1, reply);
      const id = await g.ask(PROMPT);
      const row = await g.settled(id);
      expect(row.status).toBe('failed');
      expect(row.error).toContain(message);
      expect(g.api.requests).toHaveLength(1);
      expect(await breaker()).toMatchObject({ state: 'open' });
      const failed = await waitFor(() => failedJob(id));
      expect(String(failed.exception)).toContain(message);
      // The key never reaches a row or a failed job, even when the server quotes it.
      expect(String(failed.exception)).not.toContain(g.api.apiKey);
      expect(row.error).not.toContain(g.api.apiKey);
    });

    it('500: retried with backoff, counted against the breaker', async () => {
      g.api.replyNext(1, { kind: 'server-error' });
      const id = await g.ask(PROMPT);
      const row = await g.settled(id);
      expect(row).toMatchObject({ status: 'succeeded', attempts: 2 });
      expect(g.api.requests.map((r) => r.status)).toEqual([500, 200]);
      expect(await breaker()).toMatchObject({ state: 'closed', failures: 1 });
    });

    it('a network error: retried, counted against the breaker', async () => {
      g.api.replyNext(1, { kind: 'reset' });
      const id = await g.ask(PROMPT);
      expect(await g.settled(id)).toMatchObject({ status: 'succeeded', attempts: 2 });
      expect(await breaker()).toMatchObject({ state: 'closed', failures: 1 });
    });

    it('a reply slower than OPENAI_TIMEOUT: the attempt is cut off and retried', async () => {
      g.api.replyNext(1, { kind: 'slow', delayMs: OPENAI_TIMEOUT_MS + 1500 });
      const started = Date.now();
      const id = await g.ask(PROMPT);
      const row = await g.settled(id);
      expect(row).toMatchObject({ status: 'succeeded', attempts: 2 });
      // Cut off at the timeout: the second attempt did not wait for the slow reply.
      expect(Date.now() - started).toBeLessThan(OPENAI_TIMEOUT_MS + 1400);
      expect(await breaker()).toMatchObject({ failures: 1 });
    });

    it('JSON that does not parse: retried; three in all fail the job with the reason', async () => {
      g.api.replyNext(1, { kind: 'invalid-json' });
      const ok = await g.ask({ ...PROMPT, response_format: JSON_FORMAT });
      const row = await g.settled(ok);
      expect(row).toMatchObject({ status: 'succeeded', attempts: 2, invalidReplies: 1 });
      expect(JSON.parse(row.responseJson!)).toEqual({ echo: 'echo: Say hi' });

      g.api.reset();
      g.api.replyNext(5, { kind: 'invalid-json' });
      const bad = await g.ask({ ...PROMPT, response_format: JSON_FORMAT });
      const failed = await g.settled(bad);
      expect(failed.status).toBe('failed');
      expect(failed.error).toMatch(
        /^the reply of fake-model is not valid JSON \(.*\): "Sure! Here is the JSON: \{\\"echo\\": " \(3 unusable replies; giving up\)$/,
      );
      expect(g.api.requests).toHaveLength(3);
      // The model's fault, not the upstream's: nothing counted.
      expect((await breaker())?.failures ?? 0).toBe(0);
    });

    it('JSON that misses its schema: retried like JSON that does not parse', async () => {
      g.api.replyNext(1, { kind: 'json', value: { title: 7 } });
      g.api.replyNext(1, { kind: 'json', value: { title: 'Hello' } });
      const id = await g.ask({
        ...PROMPT,
        response_format: {
          type: 'json_schema',
          json_schema: {
            name: 'headline',
            schema: {
              type: 'object',
              properties: { title: { type: 'string' } },
              required: ['title'],
              additionalProperties: false,
            },
          },
        },
      });
      const row = await g.settled(id);
      expect(row).toMatchObject({ status: 'succeeded', attempts: 2, invalidReplies: 1 });
      expect(JSON.parse(row.responseJson!)).toEqual({ title: 'Hello' });
    });

    it('finish_reason length: fails "truncated" by default; onLength trim keeps the whole sentences', async () => {
      g.api.replyNext(1, { kind: 'length' });
      const cut = await g.ask({ ...PROMPT, max_tokens: 12 });
      const failed = await g.settled(cut);
      expect(failed.status).toBe('failed');
      expect(failed.error).toBe(
        "truncated: the reply of fake-model was cut at max_tokens (12 completion tokens of 12). Raise max_tokens (gpt:ask --max-tokens), or pass onLength: 'trim' in the payload to keep it.",
      );
      expect(g.api.requests).toHaveLength(1);

      g.api.replyNext(1, { kind: 'length' });
      const kept = await g.ask({ ...PROMPT, max_tokens: 12, onLength: 'trim' });
      expect(await g.settled(kept)).toMatchObject({
        status: 'succeeded',
        finishReason: 'length',
        responseText: 'The first sentence is whole.',
      });
    });

    it('context_length_exceeded: fails at once, with the token counts', async () => {
      g.api.replyNext(1, { kind: 'context-length', max: 8192, tokens: 10_000 });
      const id = await g.ask(PROMPT);
      const row = await g.settled(id);
      expect(row.status).toBe('failed');
      expect(row.error).toMatch(
        /^context_length_exceeded: the request has 10000 tokens, fake-model takes at most 8192\. Shorten the messages or lower max_tokens/,
      );
      expect(g.api.requests).toHaveLength(1);
      expect((await breaker())?.failures ?? 0).toBe(0);
    });

    it('onRetry gets each retried attempt, onFailure the final failure with its code', async () => {
      const hooks = { onRetry: 'summary.retried', onFailure: 'summary.failed' };
      g.api.replyNext(1, { kind: 'invalid-json' });
      const ok = await g.ask({
        ...PROMPT,
        ...hooks,
        response_format: JSON_FORMAT,
        metadata: { postId: 1 },
      });
      expect((await g.settled(ok)).status).toBe('succeeded');
      const retried = await waitFor(() =>
        g.saved.find((r) => (r as { retried?: { jobId: string } }).retried?.jobId === ok),
      );
      expect(retried).toMatchObject({
        retried: { attempt: 1, invalidReply: true, metadata: { postId: 1 } },
      });
      expect((retried as { retried: { error: string } }).retried.error).toMatch(
        /^the reply of fake-model is not valid JSON/,
      );

      g.api.replyNext(1, { kind: 'context-length', max: 8192, tokens: 10_000 });
      const bad = await g.ask({ ...PROMPT, ...hooks, metadata: { postId: 2 } });
      expect((await g.settled(bad)).status).toBe('failed');
      const failed = await waitFor(() =>
        g.saved.find((r) => (r as { failed?: { jobId: string } }).failed?.jobId === bad),
      );
      expect(failed).toMatchObject({
        failed: { code: 'context_length_exceeded', metadata: { postId: 2 } },
      });
      // Failed at once: no retry was announced.
      expect(
        g.saved.some((r) => (r as { retried?: { jobId: string } }).retried?.jobId === bad),
      ).toBe(false);

      const unknown = await g.ask({ ...PROMPT, onFailure: 'no.such.job' });
      expect((await g.settled(unknown)).error).toBe(
        'gpt.complete: the payload names the job "no.such.job", which this worker\'s config does not define.',
      );
    });

    it('an open breaker holds the jobs without a request; its probe closes it', async () => {
      // Its own prompt: a retry left over from another test does not count here.
      const mine = { prompt: 'breaker test' };
      const requests = () =>
        g.api.requests.filter((r) => r.messages[0]?.content === 'breaker test');
      g.api.replyNext(3, { kind: 'server-error' });
      const ids = await Promise.all([1, 2, 3].map(() => g.ask(mine, { tries: 1 })));
      await Promise.all(ids.map((id) => g.settled(id)));
      expect(await breaker()).toMatchObject({ state: 'open' });
      const held = await g.ask(mine, { tries: 1 });
      const row = await g.settled(held, 5_000);
      // Held for the cooldown (1 s), then let through as the probe: one request, one try.
      expect(row).toMatchObject({ status: 'succeeded', attempts: 1 });
      expect(requests().map((r) => r.status)).toEqual([500, 500, 500, 200]);
      expect(requests()[3]!.at - requests()[2]!.at).toBeGreaterThanOrEqual(900);
      expect(await breaker()).toMatchObject({ state: 'closed' });
      expect(g.flowEvents.map((e) => e.type)).toEqual(
        expect.arrayContaining(['breaker:opened', 'breaker:half-open', 'breaker:closed']),
      );
    });
  });
}
