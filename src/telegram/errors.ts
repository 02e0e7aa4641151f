/*
 * What a failed Bot API call means to the poller: a conflict or a refused token ends it (with a
 * message that says which case and what to do), a flood wait or an outage is waited out. grammY
 * is recognised by shape (name and fields), so this file does not load it.
 */
import { JobsmithError } from '../errors.js';
import { redact } from '../logging/redact.js';
import type { BotSettings } from './settings.js';

/** Telegram answered 409 Conflict to getUpdates: a webhook is set, or another poller polls. */
export class TelegramConflictError extends JobsmithError {
  constructor(
    readonly kind: 'webhook' | 'poller',
    bot: BotSettings,
    description: string,
  ) {
    super(
      kind === 'webhook'
        ? `Telegram refused getUpdates for bot ${bot.name} (id ${bot.id}): a webhook is set, and a bot with a webhook cannot be polled (409: ${description}).`
        : `Telegram ended the long poll of bot ${bot.name} (id ${bot.id}) because another poller is polling the same bot (409: ${description}), although this process holds its poller lease.`,
      {
        hint:
          kind === 'webhook'
            ? 'Run `run longpoll --drop-webhook` to delete the webhook first (the updates waiting on Telegram are kept), or stop using the webhook.'
            : 'Stop the other poller: a second deployment, a `run longpoll` on other storage, or a program calling bot.start() with the same token. One token, one poller.',
      },
    );
  }
}

/** Telegram refused the token (401 Unauthorized, or 404 for a token it does not know). */
export class TelegramTokenError extends JobsmithError {
  constructor(bot: BotSettings, description: string) {
    super(`Telegram refused the token of bot ${bot.name} from ${bot.source}: ${description}.`, {
      hint: `Check ${bot.source}: copy the token @BotFather gave you (revoked tokens stop working).`,
    });
  }
}

/** Telegram refused the request itself (400): a bad --allowed-updates, for example. */
export class TelegramRequestError extends JobsmithError {}

export type PollFailure =
  | { kind: 'conflict'; description: string; webhook: boolean }
  | { kind: 'token'; description: string }
  | { kind: 'flood'; retryAfterMs: number; description: string }
  | { kind: 'request'; description: string }
  | { kind: 'outage'; description: string };

/** Sorts a failed Bot API call. Anything that is not an answer from Telegram is an outage. */
export function classify(error: unknown): PollFailure {
  const e = error as {
    name?: string;
    error_code?: number;
    description?: string;
    parameters?: { retry_after?: number };
    message?: string;
    error?: unknown;
  };
  if (e?.name === 'GrammyError' && typeof e.error_code === 'number') {
    const description = redact(e.description ?? '');
    if (e.error_code === 409)
      return { kind: 'conflict', description, webhook: /webhook/i.test(description) };
    if (e.error_code === 401 || e.error_code === 404) return { kind: 'token', description };
    if (e.error_code === 429)
      return {
        kind: 'flood',
        retryAfterMs: Math.max(1, e.parameters?.retry_after ?? 1) * 1000,
        description,
      };
    if (e.error_code >= 400 && e.error_code < 500) return { kind: 'request', description };
    return { kind: 'outage', description: `${e.error_code} ${description}` };
  }
  return { kind: 'outage', description: outageText(error) };
}

/** An outage's error with its cause (node-fetch's says which address failed), token masked. */
function outageText(error: unknown): string {
  const e = error as { message?: string; error?: unknown };
  const cause = (e?.error as { message?: string } | undefined)?.message;
  const text = cause ? `${e.message ?? ''} ${cause}` : (e?.message ?? String(error));
  return redact(text.trim());
}
