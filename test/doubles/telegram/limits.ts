/**
 * Telegram's sending limits (https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this):
 * about 30 messages a second per bot, 1 a second per private chat, 20 a minute per group or
 * channel. Telegram does not publish its algorithm; the fake keeps a strict sliding window per
 * key, so "no chat over 1 a second" can be checked exactly: a send is refused when the window
 * ending now already holds `count` accepted sends, and `retry_after` says when the oldest of
 * them leaves it.
 */

/** At most `count` sends in any `windowMs`. */
export interface RateLimit {
  count: number;
  windowMs: number;
}

/** Each limit, or `false` to lift it. */
export interface LimitOptions {
  /** Every send of one bot. @defaultValue 30 per 1000 ms */
  perBot?: RateLimit | false;
  /** One private chat (positive chat id). @defaultValue 1 per 1000 ms */
  privateChat?: RateLimit | false;
  /** One group, supergroup or channel (negative chat id). @defaultValue 20 per 60000 ms */
  groupChat?: RateLimit | false;
}

export const DEFAULT_LIMITS: Required<LimitOptions> = {
  perBot: { count: 30, windowMs: 1000 },
  privateChat: { count: 1, windowMs: 1000 },
  groupChat: { count: 20, windowMs: 60_000 },
};

/** Which limit refused a send, and for how long (ms). */
export interface LimitVerdict {
  scope: 'bot' | 'chat';
  waitMs: number;
}

/** Accepted-send times per key, oldest first, trimmed to the window as they are read. */
class SlidingWindow {
  private readonly times = new Map<string, number[]>();

  constructor(private readonly limit: RateLimit) {}

  /** Milliseconds until one more send fits, 0 when it fits now. */
  waitMs(key: string, now: number): number {
    const times = this.times.get(key);
    if (!times) return 0;
    while (times.length > 0 && times[0] <= now - this.limit.windowMs) times.shift();
    if (times.length < this.limit.count) return 0;
    return times[times.length - this.limit.count] + this.limit.windowMs - now;
  }

  record(key: string, now: number): void {
    const times = this.times.get(key) ?? [];
    times.push(now);
    this.times.set(key, times);
  }
}

/** The limits of one bot: checked before a send, recorded when it is accepted. */
export class BotLimits {
  private readonly bot?: SlidingWindow;
  private readonly privateChat?: SlidingWindow;
  private readonly groupChat?: SlidingWindow;

  constructor(options: LimitOptions = {}) {
    const merged = { ...DEFAULT_LIMITS, ...options };
    if (merged.perBot) this.bot = new SlidingWindow(merged.perBot);
    if (merged.privateChat) this.privateChat = new SlidingWindow(merged.privateChat);
    if (merged.groupChat) this.groupChat = new SlidingWindow(merged.groupChat);
  }

  private chatWindow(chatId: number): SlidingWindow | undefined {
    return chatId > 0 ? this.privateChat : this.groupChat;
  }

  /** Null when a send to `chatId` fits every limit now; else the limit that refuses it. */
  check(chatId: number, now: number): LimitVerdict | null {
    const chatWait = this.chatWindow(chatId)?.waitMs(String(chatId), now) ?? 0;
    if (chatWait > 0) return { scope: 'chat', waitMs: chatWait };
    const botWait = this.bot?.waitMs('bot', now) ?? 0;
    if (botWait > 0) return { scope: 'bot', waitMs: botWait };
    return null;
  }

  record(chatId: number, now: number): void {
    this.chatWindow(chatId)?.record(String(chatId), now);
    this.bot?.record('bot', now);
  }
}
