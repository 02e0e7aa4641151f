/*
 * The built-in `webhook.post` job: POSTs a JSON body to a URL, as the alerts' `webhook:` targets
 * need (Slack-compatible `{ text }`; Mattermost, Rocket.Chat and Discord's /slack endpoint take
 * it too). A worker gets it when its config has `alerts` (src/integrations.ts). One request per
 * attempt, cut off after REQUEST_TIMEOUT_MS: a 2xx answer is success; 408, 429 (after its
 * Retry-After), 5xx, a timeout or a network error are retried with the backoff; any other 4xx,
 * or a redirect, fails the job at once (Permanent): sending it again would get the same answer.
 * Messages name the URL's origin only: a Slack or Discord webhook keeps its secret in the path.
 */
import { z } from 'zod';
import { defineJob } from '../jobs/define.js';
import { Permanent, RetryAfter } from '../jobs/errors.js';
import type { JobContext, JobDefinition } from '../jobs/types.js';
import { packageVersion } from '../util/package.js';
import { shownTarget } from './targets.js';

export const WEBHOOK_JOB = 'webhook.post';
/** Queue of webhook.post jobs (alerts' notifications), so every default worker sends them. */
export const WEBHOOK_QUEUE = 'default';
export const WEBHOOK_TRIES = 5;
export const WEBHOOK_BACKOFF = [10, 30, 60, 300];
/** How long one request may take, answer included. */
export const REQUEST_TIMEOUT_MS = 10_000;
/** The longest Retry-After a 429 is waited for; a longer one is a failed attempt. */
const MAX_RETRY_AFTER_S = 3600;
/** How much of an error answer's body goes into the error. */
const BODY_SHOWN = 200;

export const webhookPayloadSchema = z
  .object({
    /** http:// or https://. */
    url: z
      .string()
      .url('a URL: https://...')
      .refine((u) => /^https?:$/.test(new URL(u).protocol), 'an http:// or https:// URL'),
    /** Sent as JSON: `{ text: '...' }` for Slack-compatible receivers. */
    body: z.record(z.unknown()),
    /** More request headers (an Authorization...). */
    headers: z.record(z.string()).optional(),
  })
  .strict();

export type WebhookPayload = z.infer<typeof webhookPayloadSchema>;

/**
 * `webhook.post`, for `dispatch(webhookPost, { url, body: { text } })`: any worker whose config
 * has `alerts` runs it (on the queue `default` unless a dispatch names another).
 */
export const webhookPost: JobDefinition<WebhookPayload> = defineJob<WebhookPayload>({
  name: WEBHOOK_JOB,
  queue: WEBHOOK_QUEUE,
  schema: webhookPayloadSchema,
  tries: WEBHOOK_TRIES,
  backoff: WEBHOOK_BACKOFF,
  timeout: Math.ceil(REQUEST_TIMEOUT_MS / 1000) + 5,
  handle: (payload, ctx) => post(payload, ctx),
});

async function post(payload: WebhookPayload, ctx: JobContext): Promise<{ status: number }> {
  const where = shownTarget(`webhook:${payload.url}`).slice('webhook:'.length);
  let response: Response;
  try {
    response = await fetch(payload.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': `jobsmith/${packageVersion()}`,
        ...payload.headers,
      },
      body: JSON.stringify(payload.body),
      redirect: 'manual',
      signal: AbortSignal.any([ctx.signal, AbortSignal.timeout(REQUEST_TIMEOUT_MS)]),
    });
  } catch (error) {
    const reason =
      (error as Error).name === 'TimeoutError'
        ? `no answer within ${REQUEST_TIMEOUT_MS / 1000}s`
        : causeOf(error);
    // fetch never connects to some ports (25, 6000...: the WHATWG "bad ports"), so no retry can.
    if (reason === 'bad port')
      throw new Permanent(`webhook ${where}: fetch refuses its port; use another`, {
        cause: error,
      });
    throw new Error(`webhook ${where}: ${reason}`, { cause: error });
  }
  const { status } = response;
  if (status >= 200 && status < 300) {
    await response.body?.cancel();
    ctx.log.info('webhook posted', { status, url: where });
    return { status };
  }
  const said = await excerpt(response);
  const answer = `webhook ${where} answered ${status}${said ? `: ${said}` : ''}`;
  if (status === 429) {
    const seconds = Number(response.headers.get('retry-after'));
    if (Number.isFinite(seconds) && seconds >= 0 && seconds <= MAX_RETRY_AFTER_S)
      throw new RetryAfter(seconds);
    throw new Error(answer);
  }
  if (status === 408 || status >= 500) throw new Error(answer);
  if (status >= 300 && status < 400)
    throw new Permanent(`${answer} (a redirect; give the URL it points to)`);
  throw new Permanent(answer);
}

/** The network error under fetch's "fetch failed": ECONNREFUSED, ENOTFOUND... */
function causeOf(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message;
}

async function excerpt(response: Response): Promise<string> {
  try {
    const text = (await response.text()).replace(/\s+/g, ' ').trim();
    return text.length > BODY_SHOWN ? `${text.slice(0, BODY_SHOWN)}…` : text;
  } catch {
    return '';
  }
}
