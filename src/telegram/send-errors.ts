/*
 * What a failed send means (docs/telegram.md, "Sending"): a flood wait is waited out on the
 * chat's key (or the bot's, for a flood of the whole bot), a blocked chat is remembered, a
 * migrated group is followed once, any other 4xx is permanent, and anything else (5xx, the
 * network) is retried with the job's backoff. grammY's errors are recognised by shape.
 */
import { redact } from '../logging/redact.js';

export type SendFailure =
  | { kind: 'flood'; retryAfter: number; description: string }
  | { kind: 'blocked'; description: string }
  | { kind: 'migrated'; to: string; description: string }
  | { kind: 'rejected'; code: number; description: string }
  | { kind: 'transient'; description: string };

/** Sorts a failed Bot API call. */
export function classifySend(error: unknown): SendFailure {
  const e = error as {
    name?: string;
    error_code?: number;
    description?: string;
    parameters?: { retry_after?: number; migrate_to_chat_id?: number };
    message?: string;
    error?: { message?: string };
  };
  if (e?.name === 'GrammyError' && typeof e.error_code === 'number') {
    const description = redact(`${e.error_code} ${e.description ?? ''}`.trim());
    if (e.error_code === 429)
      return {
        kind: 'flood',
        retryAfter: Math.max(1, e.parameters?.retry_after ?? 1),
        description,
      };
    if (e.error_code === 403) return { kind: 'blocked', description };
    if (e.error_code === 400 && e.parameters?.migrate_to_chat_id !== undefined)
      return { kind: 'migrated', to: String(e.parameters.migrate_to_chat_id), description };
    if (e.error_code >= 400 && e.error_code < 500)
      return { kind: 'rejected', code: e.error_code, description };
    return { kind: 'transient', description };
  }
  const cause = e?.error?.message;
  const text = cause ? `${e?.message ?? ''} ${cause}` : (e?.message ?? String(error));
  return { kind: 'transient', description: redact(text.trim()) };
}

/** How long two 429s of different chats may be apart and still mean a flood of the whole bot. */
const FLOOD_WINDOW_MS = 1000;
const recent = new Map<string, Array<{ chat: string; at: number }>>();

/**
 * Whether a 429 for `chat` of `bot` is a flood of the whole bot. Telegram does not say which
 * limit a 429 is for; the sender keeps each chat under its own limit, so 429s for two different
 * chats of one bot within a second mean the bot's limit (this process's view). A 429 the
 * chat's own limit explains (`chatExplains`: the chat was sent to less than its spacing before,
 * the two sends arriving closer than they were taken) is not counted: at the edge of the limits
 * such 429s come for several chats in a second, and taking them for a flood stopped the whole
 * bot for a second each time.
 */
export function isBotFlood(
  bot: string,
  chat: string,
  chatExplains = false,
  now = Date.now(),
): boolean {
  if (chatExplains) return false;
  const list = (recent.get(bot) ?? []).filter((r) => now - r.at <= FLOOD_WINDOW_MS);
  list.push({ chat, at: now });
  recent.set(bot, list.slice(-20));
  return new Set(list.map((r) => r.chat)).size > 1;
}
