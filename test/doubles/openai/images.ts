/**
 * The fake OpenAI server's image endpoint: `POST /v1/images/generations` as OpenAI answers it
 * (https://platform.openai.com/docs/api-reference/images/create), with its own programmable
 * replies so a test can fail the images and not the chat completions. Each image is one real
 * 1×1 PNG, as `b64_json` (the GPT image models' only form, and the default here) or, when the
 * request asks `response_format: "url"` (the DALL·E models), as a URL on the same server that
 * serves the bytes (`GET /v1/images/files/<name>.png`). See docs/testing-openai.md, "Images".
 */
import type http from 'node:http';
import { answer, type Reply } from './replies.js';
import { replyScript } from './script.js';

/** A 1×1 transparent PNG: small, and a real image for whoever decodes it. */
export const FAKE_PNG_BASE64 =
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAAC0lEQVR4nGNgAAIAAAUAAXpeqz8AAAAASUVORK5CYII=';

/** A reply the image endpoint can be told to give. */
export type ImageReply =
  /** 200 with `n` images (b64_json, or url when asked). */
  | { kind: 'success'; revisedPrompt?: string }
  /** 400 moderation_blocked: the prompt was refused by the safety system. */
  | { kind: 'moderation-blocked' }
  /** Waits `delayMs` before answering with `then` (default: success). */
  | { kind: 'slow'; delayMs: number; then?: ImageReply }
  /** The chat endpoint's error replies, with the same bodies and headers. */
  | Extract<
      Reply,
      {
        kind:
          | 'rate-limit'
          | 'insufficient-quota'
          | 'unauthorized'
          | 'forbidden'
          | 'server-error'
          | 'reset';
      }
    >;

/** One image request the fake received, with what it answered. */
export interface FakeImageRequest {
  /** When it arrived, ms since the epoch. */
  at: number;
  model?: string;
  prompt?: string;
  size?: string;
  body: Record<string, unknown>;
  /** The reply given (for `slow`, the one after the wait). */
  reply: ImageReply['kind'];
  /** HTTP status sent; 0 for a reset. */
  status: number;
}

/** The image endpoint's replies and requests: `api.images`. */
export interface FakeImages {
  /** Every image request, in the order they arrived. */
  requests: FakeImageRequest[];
  /** The next `n` image requests get `reply`, after the replies queued before it. */
  replyNext(n: number, reply: ImageReply): void;
  /** Every image request after the queued ones gets `reply` (undefined: back to success). */
  replyAlways(reply: ImageReply | undefined): void;
  /** Forgets the queued replies, the `replyAlways` one, the requests and the files served. */
  reset(): void;
}

/** Sizes the image models take (the `openai` package's ImageGenerateParams['size']). */
const SIZES = new Set([
  'auto',
  '256x256',
  '512x512',
  '1024x1024',
  '1536x1024',
  '1024x1536',
  '1792x1024',
  '1024x1792',
]);

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function error(status: number, message: string, type: string, code: string | null, param?: string) {
  return { status, body: { error: { message, type, param: param ?? null, code } } };
}

/** The endpoint's state and its two handlers, for the fake server (index.ts) to route to. */
export function imagesEndpoint(): FakeImages & {
  /** Answers `POST /v1/images/generations`; `base` is `http://127.0.0.1:<port>/v1`. */
  generate(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    body: Record<string, unknown>,
    auth: { authorized: boolean; shownKey: string },
    base: string,
    delayMs: number,
  ): Promise<void>;
  /** Answers `GET /v1/images/files/<name>`: the bytes of an image given as a URL, or 404. */
  serveFile(name: string, res: http.ServerResponse): void;
} {
  const requests: FakeImageRequest[] = [];
  const script = replyScript<ImageReply>('images.replyNext', { kind: 'success' });
  const files = new Map<string, Buffer>();
  let counter = 0;

  return {
    requests,
    replyNext: script.replyNext,
    replyAlways: script.replyAlways,
    reset() {
      script.clear();
      requests.length = 0;
      files.clear();
    },
    async generate(req, res, body, auth, base, delayMs) {
      let reply: ImageReply = auth.authorized ? script.next() : { kind: 'unauthorized' };
      if (delayMs > 0) await sleep(delayMs);
      // A loop: `then` may be slow too (a finite chain the test wrote).
      while (reply.kind === 'slow') {
        await sleep(reply.delayMs);
        reply = reply.then ?? { kind: 'success' };
      }
      const record: FakeImageRequest = {
        at: Date.now(),
        model: body.model as string | undefined,
        prompt: body.prompt as string | undefined,
        size: body.size as string | undefined,
        body,
        reply: reply.kind,
        status: 0,
      };
      requests.push(record);
      if (reply.kind === 'reset' || res.destroyed || req.socket.destroyed) {
        req.socket.destroy();
        return;
      }
      const a = answerImages(body, reply, auth.shownKey, (bytes) => {
        counter += 1;
        const name = `img-${counter}.png`;
        files.set(name, bytes);
        return `${base}/images/files/${name}`;
      });
      record.status = a.status;
      res.writeHead(a.status, { 'content-type': 'application/json', ...a.headers });
      res.end(JSON.stringify(a.body));
    },
    serveFile(name, res) {
      const bytes = files.get(name);
      if (!bytes) {
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end('not found');
        return;
      }
      res.writeHead(200, { 'content-type': 'image/png', 'content-length': bytes.length });
      res.end(bytes);
    },
  };
}

function answerImages(
  body: Record<string, unknown>,
  reply: Exclude<ImageReply, { kind: 'slow' | 'reset' }>,
  apiKey: string,
  publish: (bytes: Buffer) => string,
): { status: number; headers?: Record<string, string>; body: unknown } {
  if (reply.kind === 'success') {
    const problem = invalid(body);
    if (problem) return problem;
    const n = (body.n as number | undefined) ?? 1;
    const asUrl = body.response_format === 'url';
    const bytes = Buffer.from(FAKE_PNG_BASE64, 'base64');
    const data = Array.from({ length: n }, () => ({
      ...(asUrl ? { url: publish(bytes) } : { b64_json: FAKE_PNG_BASE64 }),
      ...(reply.revisedPrompt ? { revised_prompt: reply.revisedPrompt } : {}),
    }));
    return {
      status: 200,
      body: {
        created: Math.floor(Date.now() / 1000),
        data,
        output_format: 'png',
        size: body.size ?? '1024x1024',
        usage: { input_tokens: 0, output_tokens: 0, total_tokens: 0 },
      },
    };
  }
  if (reply.kind === 'moderation-blocked')
    return error(
      400,
      'Your request was rejected by the safety system. If you believe this is an error, contact us and include the request ID.',
      'image_generation_user_error',
      'moderation_blocked',
    );
  // The chat endpoint's errors: the same bodies (the model named where OpenAI names it).
  return answer({ model: body.model as string | undefined }, reply, apiKey);
}

/** A 400 for a request OpenAI would refuse before generating, or undefined. */
function invalid(body: Record<string, unknown>) {
  if (typeof body.prompt !== 'string' || body.prompt.trim() === '')
    return error(
      400,
      "Missing required parameter: 'prompt'.",
      'invalid_request_error',
      'missing_required_parameter',
      'prompt',
    );
  if (body.size !== undefined && !SIZES.has(String(body.size)))
    return error(
      400,
      `Invalid value: '${String(body.size)}'. Supported values are: ${[...SIZES].map((s) => `'${s}'`).join(', ')}.`,
      'invalid_request_error',
      'invalid_value',
      'size',
    );
  const n = body.n ?? 1;
  if (!Number.isInteger(n) || (n as number) < 1 || (n as number) > 10)
    return error(
      400,
      `Invalid 'n': integer ${String(n)} is out of range; it must be from 1 to 10.`,
      'invalid_request_error',
      'integer_out_of_range',
      'n',
    );
  return undefined;
}
