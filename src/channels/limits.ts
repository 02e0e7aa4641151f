/*
 * The `channels` config section and the rate limit it declares. Pure: loaded with every config,
 * so nothing here loads GramJS.
 *
 * `telegram.mtproto` is keyed `<account>:<method>` (`reader:messages.GetHistory`). Each call a
 * job makes through withChannelSource takes a token of its key, and a FLOOD_WAIT pushes the key
 * back for the wait, so every job on that account and method waits too, on every process
 * (docs/channels.md). Telegram publishes no figures for user accounts; 30 calls per 30 s per
 * method (one a second, 5 at once) stays under the ~3000 messages per 30 s of history reads
 * that Telethon's and GramJS's iterMessages pace themselves to (100 messages a call), and the
 * config's own `rateLimits['telegram.mtproto']` wins.
 */
import type { RateLimitSettings } from '../config/define.js';
import { MTPROTO_LIMIT } from './errors.js';

export const CHANNEL_RATE_LIMITS: Readonly<Record<string, RateLimitSettings>> = {
  [MTPROTO_LIMIT]: { limit: 30, per: '30s', burst: 5 },
};

/** Checks `channels` in the config: absent, or an object with no fields (its presence declares the limit). */
export function checkChannelsConfig(
  value: unknown,
  fail: (problem: string, hint?: string) => never,
): void {
  if (value === undefined) return;
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    fail(`channels must be an object ({}), got ${JSON.stringify(value) ?? String(value)}.`);
  const unknown = Object.keys(value);
  if (unknown.length > 0)
    fail(
      `channels has no field ${unknown.map((k) => `'${k}'`).join(', ')}; it takes none (\`channels: {}\` declares the '${MTPROTO_LIMIT}' rate limit).`,
      `Set the limit's figures in rateLimits['${MTPROTO_LIMIT}'], and the account in TELEGRAM_API_ID, TELEGRAM_API_HASH and TELEGRAM_SESSION.`,
    );
}
