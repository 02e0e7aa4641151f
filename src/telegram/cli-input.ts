/*
 * Input shared by `run telegram:send` and `run telegram:schedule`: the chat and the text as
 * flags, checked with messages that name the flag, and the config's sender job.
 */
import type { App } from '../cli/app.js';
import { ConfigError, UsageError } from '../errors.js';
import type { JobDefinition } from '../jobs/types.js';
import type { TelegramSendPayload } from './send-payload.js';

/** Telegram's longest message text (characters after entity parsing). */
export const TEXT_MAX = 4096;

/** Parses --chat: a chat id (a whole number, negative for groups) or a channel's @username. */
export function chatFlag(value: string): number | string {
  if (/^-?\d{1,16}$/.test(value) && Number(value) !== 0) return Number(value);
  if (/^@[A-Za-z0-9_]{4,64}$/.test(value)) return value;
  throw new UsageError(
    `--chat must be a chat id (a whole number, not 0: positive for a user, negative for a group or channel) or a channel's @username; got "${value}".`,
  );
}

/** The --chat and --text a command was given, or a UsageError saying which is missing. */
export function messageFlags(opts: { chat?: number | string; text?: string }): {
  chat: number | string;
  text: string;
} {
  if (opts.chat === undefined) throw new UsageError('--chat is required: the chat id to send to.');
  if (opts.text === undefined || opts.text.trim() === '')
    throw new UsageError('--text is required and may not be empty: the message to send.');
  if (opts.text.length > TEXT_MAX)
    throw new UsageError(
      `--text is ${opts.text.length} characters; Telegram takes at most ${TEXT_MAX} in one message.`,
    );
  return { chat: opts.chat, text: opts.text };
}

/**
 * The config's telegram.send definition (on its sendQueue). `direct` names the command's way
 * round the queue, for the hint (telegram:send has --now; telegram:schedule has none).
 */
export async function senderJob(
  app: App,
  direct?: string,
): Promise<JobDefinition<TelegramSendPayload>> {
  const { config, file } = await app.config();
  const job = config.telegram ? (await app.registry()).get('telegram.send') : undefined;
  if (!job)
    throw new ConfigError(
      `The config ${file ? `(${file}) ` : ''}has no telegram section, so no worker would run telegram.send jobs.`,
      {
        hint: `Add telegram: {} to defineConfig (with TELEGRAM_BOT_TOKEN set)${direct ? `, or use ${direct} to send directly` : ''}.`,
      },
    );
  return job as JobDefinition<TelegramSendPayload>;
}
