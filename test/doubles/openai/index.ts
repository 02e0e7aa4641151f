/**
 * A local OpenAI-compatible server for tests, benchmarks and the demo: a real HTTP server on
 * 127.0.0.1 answering `POST /v1/chat/completions` (and `POST /v1/images/generations`, images.ts)
 * as OpenAI does, with replies programmed by
 * the test (a 429 with retry-after, insufficient_quota, a 500, a slow reply, a reply cut at
 * max_tokens...). The real `openai` client reaches it through OPENAI_BASE_URL (`baseURL`).
 * See docs/testing-openai.md.
 *
 * ```ts
 * const api = await startFakeOpenAi();
 * const client = new OpenAI({ apiKey: api.apiKey, baseURL: api.baseURL, maxRetries: 0 });
 * api.replyNext(1, { kind: 'server-error' });
 * await client.chat.completions.create({ model: 'm', messages: [...] }); // 500
 * await api.close();
 * ```
 */
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { imagesEndpoint, type FakeImages } from './images.js';
import { answer, type ChatRequest, type Reply } from './replies.js';
import { replyScript } from './script.js';

export type { Reply } from './replies.js';
export { FAKE_PNG_BASE64 } from './images.js';
export type { FakeImageRequest, FakeImages, ImageReply } from './images.js';

/** One request the fake received, with what it answered. */
export interface FakeRequest {
  /** When it arrived, ms since the epoch. */
  at: number;
  model?: string;
  messages: Array<{ role: string; content: string }>;
  body: Record<string, unknown>;
  /** The reply given (for `slow`, the one after the wait). */
  reply: Reply['kind'];
  /** HTTP status sent; 0 for a reset. */
  status: number;
}

export interface FakeOpenAiOptions {
  /** The key the fake takes (Bearer); any other gets a 401. @defaultValue 'sk-test-' + random */
  apiKey?: string;
  /** Added before every answer, in ms. @defaultValue 0 */
  delayMs?: number;
  /** @defaultValue 0 (a free port chosen by the kernel) */
  port?: number;
}

export interface FakeOpenAi {
  /** For OPENAI_BASE_URL: `http://127.0.0.1:<port>/v1`. */
  baseURL: string;
  apiKey: string;
  /** Every chat completion request, in the order they arrived. */
  requests: FakeRequest[];
  /** The image endpoint: its own replies and requests (images.ts). */
  images: FakeImages;
  /** The next `n` requests get `reply`, after the replies queued before it. */
  replyNext(n: number, reply: Reply): void;
  /** Every request after the queued ones gets `reply` (undefined: back to success). */
  replyAlways(reply: Reply | undefined): void;
  /** Forgets the queued replies, the `replyAlways` one and the requests seen (images' too). */
  reset(): void;
  close(): Promise<void>;
}

/** Starts the fake on 127.0.0.1; close() it when the test ends. */
export async function startFakeOpenAi(options: FakeOpenAiOptions = {}): Promise<FakeOpenAi> {
  const apiKey = options.apiKey ?? `sk-test-${Math.random().toString(36).slice(2)}abcdefghijkl`;
  const requests: FakeRequest[] = [];
  const script = replyScript<Reply>('replyNext', { kind: 'success' });
  const images = imagesEndpoint();
  let baseURL = '';
  const sockets = new Set<import('node:net').Socket>();

  const server = http.createServer((req, res) => {
    void (async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const at = Date.now();
      const file = /^\/v1\/images\/files\/([\w.-]+)$/.exec(req.url ?? '');
      if (req.method === 'GET' && file) {
        images.serveFile(file[1]!, res);
        return;
      }
      const imagesUrl = /^\/v1\/images\/generations\/?$/.test(req.url ?? '');
      if (
        req.method !== 'POST' ||
        !(imagesUrl || /^\/v1\/chat\/completions\/?$/.test(req.url ?? ''))
      ) {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            error: {
              message: `Unknown request URL: ${req.method} ${req.url}`,
              type: 'invalid_request_error',
              code: 'unknown_url',
              param: null,
            },
          }),
        );
        return;
      }
      let body: ChatRequest & Record<string, unknown>;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
      } catch {
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            error: {
              message: 'We could not parse the JSON body of your request.',
              type: 'invalid_request_error',
              code: null,
              param: null,
            },
          }),
        );
        return;
      }
      const authorized = req.headers.authorization === `Bearer ${apiKey}`;
      const shownKey = authorized
        ? apiKey
        : String(req.headers.authorization ?? '').replace(/^Bearer /, '');
      if (imagesUrl) {
        await images.generate(
          req,
          res,
          body,
          { authorized, shownKey },
          baseURL,
          options.delayMs ?? 0,
        );
        return;
      }
      let reply: Reply = authorized ? script.next() : { kind: 'unauthorized' };
      const delay = options.delayMs ?? 0;
      if (delay > 0) await sleep(delay);
      if (reply.kind === 'slow') {
        await sleep(reply.delayMs);
        reply = reply.then ?? { kind: 'success' };
      }
      const record: FakeRequest = {
        at,
        model: body.model,
        messages: body.messages ?? [],
        body,
        reply: reply.kind,
        status: 0,
      };
      requests.push(record);
      if (reply.kind === 'reset' || res.destroyed || req.socket.destroyed) {
        req.socket.destroy();
        return;
      }
      const a = answer(body, reply, shownKey);
      record.status = a.status;
      res.writeHead(a.status, { 'content-type': 'application/json', ...a.headers });
      res.end(JSON.stringify(a.body));
    })().catch(() => req.socket.destroy());
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.listen(options.port ?? 0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  baseURL = `http://127.0.0.1:${port}/v1`;
  return {
    baseURL,
    apiKey,
    requests,
    images,
    replyNext: script.replyNext,
    replyAlways: script.replyAlways,
    reset() {
      script.clear();
      requests.length = 0;
      images.reset();
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
