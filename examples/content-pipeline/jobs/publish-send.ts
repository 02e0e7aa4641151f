/*
 * One send of a publication, under Telegram's limits: the same limits (telegram.global per bot,
 * telegram.chat / telegram.group per chat) and the same all-or-none take as jobsmith's
 * telegram.send, taken per send inside the pipeline.publish job, so the publisher and the
 * admin's notices share one budget with every other sender on the storage. What a failure means:
 *
 *   no room in a limit       waited for inside the job when the slot is at most 5 s away (so a
 *                            later publication cannot take it and go first), else the job is
 *                            put back, no attempt spent (RateLimitExceeded)
 *   429 (FLOOD_WAIT)         RetryAfter(retry_after) on the chat's key, no attempt spent
 *   5xx, network, timeout    TelegramDownError: the attempt fails, the publish queue's backoff
 *                            (PIPELINE_PUBLISH_RETRY_SECONDS) brings it back
 *   400, 403, a local file   CriticalSendError: the publication is cancelled (publish.ts)
 */
import { RetryAfter, type MiddlewareContext } from 'jobsmith';
import {
  chatKey,
  chatLimitOf,
  classifySend,
  sendDirect,
  telegramLimits,
  TelegramFileError,
  uploadDirsOf,
  type BotSettings,
} from 'jobsmith/telegram';
import { readEnv } from '../env.js';
import { settings } from '../settings.js';
import type { PlannedSend } from './publish-plan.js';

/** Telegram did not answer, or answered 5xx: worth trying again later. */
export class TelegramDownError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TelegramDownError';
  }
}

/** Telegram refused the send for good (or its file is missing): the publication is cancelled. */
export class CriticalSendError extends Error {
  constructor(
    /** Why, for the post's error and the admin: the method, the target and Telegram's answer. */
    readonly reason: string,
  ) {
    super(reason);
    this.name = 'CriticalSendError';
  }
}

/** The bot that publishes and where Telegram is: TELEGRAM_BOT_TOKEN, TELEGRAM_API_ROOT. */
export interface Publisher {
  bot: BotSettings;
  apiRoot: string;
  /**
   * The folders files are uploaded from: TELEGRAM_UPLOAD_DIRS, else the working directory and
   * PIPELINE_STORAGE_DIR (where the images and downloaded media are).
   */
  uploadDirs: string[];
}

/**
 * The publisher from the environment (the process's over .env).
 * @throws CriticalSendError when TELEGRAM_BOT_TOKEN is not set: nothing can be published.
 */
export function publisher(): Publisher {
  const env = readEnv();
  const token = env.TELEGRAM_BOT_TOKEN?.trim();
  if (!token || !token.includes(':'))
    throw new CriticalSendError(
      'TELEGRAM_BOT_TOKEN is not set (or not a bot token): set it to the token @BotFather gave the publishing bot.',
    );
  return {
    bot: {
      name: 'default',
      token,
      id: token.slice(0, token.indexOf(':')),
      source: 'TELEGRAM_BOT_TOKEN',
    },
    apiRoot: env.TELEGRAM_API_ROOT?.trim() || 'https://api.telegram.org',
    uploadDirs: uploadDirsOf(env.TELEGRAM_UPLOAD_DIRS) ?? [process.cwd(), settings().storageDir],
  };
}

/** The chat id as the Bot API takes it: a number for numeric ids, else the @username. */
export function chatIdOf(target: string): number | string {
  return /^-?\d+$/.test(target) ? Number(target) : target;
}

interface LimitPayload {
  bot: string;
  chat: string;
}

// One take of the bot's and the chat's limits per send (an album is one send: jobsmith's
// assumption, docs/telegram.md).
const limits = telegramLimits<LimitPayload>(
  (p) => p.bot,
  (p) => p.chat,
);

/**
 * Sends one step of the plan to `target` once the limits let it through, and resolves with the
 * message ids Telegram created (an album: one per item). `ctx` is the job's middleware context
 * (its flow control holds the limits).
 * @throws RateLimitExceeded or RetryAfter (put back, no attempt spent), TelegramDownError,
 * CriticalSendError.
 */
export async function sendStep(
  ctx: MiddlewareContext<unknown>,
  who: Publisher,
  target: string,
  step: PlannedSend,
): Promise<number[]> {
  const payload: LimitPayload = { bot: who.bot.id, chat: target };
  const params = { ...step.params, chat_id: chatIdOf(target) };
  const send = async () => {
    try {
      return await sendDirect(who.bot, who.apiRoot, step.method, params, ctx.signal, {
        dirs: who.uploadDirs,
      });
    } catch (error) {
      throw failureOf(error, who, target, step.method);
    }
  };
  let lastError = ctx.lastError;
  let held = 0;
  for (;;) {
    // The job's context with this send's payload (the limits read its chat), and the last
    // denial, so a take after one keeps the slot that denial booked.
    const sendCtx = Object.create(ctx, {
      payload: { value: payload },
      lastError: { value: lastError },
    }) as MiddlewareContext<LimitPayload>;
    try {
      const result = await limits(sendCtx, send);
      const messages = Array.isArray(result) ? result : [result];
      return messages.map((m) => Number((m as { message_id: unknown }).message_id));
    } catch (error) {
      // No room yet: wait for the slot here, holding the job, rather than put it back, where a
      // later publication could take the chat's next slot and publish out of order.
      const e = error as { name?: string; ms?: number; message?: string };
      if (e?.name !== 'RateLimitExceeded' || !(Number(e.ms) <= HOLD_MS) || held >= MAX_HOLDS)
        throw error;
      held++;
      lastError = e.message ?? null;
      await sleep(Number(e.ms), ctx.signal);
    }
  }
}

/**
 * The longest a send waits for its limits inside the job (ms); a longer wait puts the job back
 * (no attempt spent). 5 s covers a channel's spacing (20 a minute: 3 s).
 */
const HOLD_MS = 5000;
/** Waits inside one send at most, so a busy key cannot hold a job past its timeout. */
const MAX_HOLDS = 5;

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', abort);
    };
    const abort = () => {
      done();
      reject(signal.reason ?? new Error('aborted'));
    };
    const timer = setTimeout(() => {
      done();
      resolve();
    }, ms);
    if (signal.aborted) abort();
    else signal.addEventListener('abort', abort, { once: true });
  });
}

function failureOf(error: unknown, who: Publisher, target: string, method: string): Error {
  if (error instanceof TelegramFileError)
    return new CriticalSendError(`${method} to ${target}: ${error.message}`);
  const failure = classifySend(error);
  const what = `${method} to ${target}: ${failure.description}`;
  switch (failure.kind) {
    case 'flood':
      // The chat's key waits; a flood of the whole bot shows as 429s for every target, each
      // pushing its own key back.
      return new RetryAfter(failure.retryAfter, {
        limit: chatLimitOf(target),
        key: chatKey(who.bot.id, target),
        message: `${what}; waiting ${failure.retryAfter}s`,
      });
    case 'blocked':
      return new CriticalSendError(
        `${what} (the bot cannot post there: make it an admin of ${target})`,
      );
    case 'migrated':
      return new CriticalSendError(
        `${what}: ${target} is now ${failure.to}; put that id in PIPELINE_TARGETS`,
      );
    case 'rejected':
      return new CriticalSendError(what);
    default:
      return new TelegramDownError(`Telegram is unreachable or failing: ${what}`, { cause: error });
  }
}

/**
 * Deletes messages the publication sent to `target` (deleteMessages, up to 100 a call). Not
 * rate limited: deleting is not sending. Resolves with an error text when Telegram refused,
 * undefined when done.
 */
export async function deleteSent(
  who: Publisher,
  target: string,
  messageIds: number[],
  signal?: AbortSignal,
): Promise<string | undefined> {
  for (let i = 0; i < messageIds.length; i += 100) {
    try {
      await sendDirect(
        who.bot,
        who.apiRoot,
        'deleteMessages',
        { chat_id: chatIdOf(target), message_ids: messageIds.slice(i, i + 100) },
        signal,
      );
    } catch (error) {
      return classifySend(error).description;
    }
  }
  return undefined;
}
