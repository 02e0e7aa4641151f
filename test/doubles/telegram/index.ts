/**
 * A local fake of the Telegram Bot API for tests, benchmarks and the demo: a real HTTP server
 * on 127.0.0.1 that grammY (or curl) talks to through its `apiRoot`, with getUpdates' real
 * offset / limit / timeout / allowed_updates semantics, the send methods, Telegram's limits
 * (429 with retry_after) and its 400 / 403 / 409 replies. See docs/testing-telegram.md.
 *
 * ```ts
 * const api = await startFakeBotApi({ chats: [42] });
 * const bot = new Bot(api.token, { client: { apiRoot: api.apiRoot } });
 * api.pushMessage(42, '/start');
 * const [update] = await bot.api.getUpdates({ timeout: 5 });
 * await bot.api.sendMessage(42, 'hi');
 * expect(api.sent.map((s) => s.message.text)).toEqual(['hi']);
 * await api.close();
 * ```
 */
import {
  FakeBot,
  type DeletedMessage,
  type FakeBotOptions,
  type FromUser,
  type SentMessage,
} from './bot.js';
import type { ChatInfo } from './chats.js';
import type { ForbiddenReason } from './errors.js';
import { FakeBotServer, type ApiCall } from './server.js';

export type {
  ApiCall,
  ChatInfo,
  DeletedMessage,
  FakeBot,
  FakeBotOptions,
  ForbiddenReason,
  FromUser,
  SentMessage,
};
export type { LimitOptions, RateLimit } from './limits.js';

export interface FakeBotApiOptions extends Omit<FakeBotOptions, 'token'> {
  /** Tokens of the bots to serve, or how many random ones. @defaultValue 1 random token */
  tokens?: string[] | number;
  /** The clock for limits, message dates and log times, ms since the epoch. @defaultValue Date.now */
  now?: () => number;
  /** @defaultValue 0 (a free port chosen by the kernel) */
  port?: number;
}

export interface FaultOptions {
  /** Only calls of this method. @defaultValue every method */
  method?: string;
  /** retry_after in seconds for a 429. @defaultValue 1 */
  retryAfter?: number;
}

/** Per chat: accepted sends and 429 answers. */
export interface ChatStats {
  sent: number;
  tooManyRequests: number;
}

export interface FakeBotApiStats {
  calls: number;
  sent: number;
  tooManyRequests: number;
  byChat: Map<number, ChatStats>;
}

export interface FakeBotApi {
  /** For grammY's `client.apiRoot`: `http://127.0.0.1:<port>` (no trailing slash). */
  apiRoot: string;
  /** The first bot's token. */
  token: string;
  tokens: string[];
  /** Every bot, in the order of `tokens`; the methods below act on the first. */
  bots: FakeBot[];
  /** The bot with this token (or index). */
  bot(tokenOrIndex: string | number): FakeBot;
  /** Every accepted send of every bot, in order (each message of a media group). */
  sent: SentMessage[];
  /** Every message deleteMessage / deleteMessages removed, in order. */
  deleted: DeletedMessage[];
  /** Every call of every bot, in the order they were answered. */
  calls: ApiCall[];
  stats(): FakeBotApiStats;
  pushUpdate: FakeBot['pushUpdate'];
  pushMessage: FakeBot['pushMessage'];
  pushCallbackQuery: FakeBot['pushCallbackQuery'];
  addChat: FakeBot['addChat'];
  block: FakeBot['block'];
  unblock: FakeBot['unblock'];
  migrate: FakeBot['migrate'];
  setWebhook: FakeBot['setWebhook'];
  restartUpdateIds: FakeBot['restartUpdateIds'];
  pendingUpdates: FakeBot['pendingUpdates'];
  holding: FakeBot['holding'];
  /**
   * The next `n` calls (of `options.method`, else of any method, any bot) fail with `status`
   * (`{ ok: false, error_code: status }`), or have their socket destroyed for 'reset'.
   */
  failNext(n: number, status?: number | 'reset', options?: FaultOptions): void;
  /** Stops the server, ending held long polls and kept-alive connections. */
  close(): Promise<void>;
}

/** Starts the fake on 127.0.0.1; close() it when the test ends. */
export async function startFakeBotApi(options: FakeBotApiOptions = {}): Promise<FakeBotApi> {
  const clock = options.now ?? Date.now;
  const { tokens: tokenOption = 1, ...botOptions } = options;
  const tokens: (string | undefined)[] =
    typeof tokenOption === 'number'
      ? Array.from({ length: tokenOption }, () => undefined)
      : tokenOption;
  if (tokens.length === 0) throw new Error('startFakeBotApi: tokens is empty; give at least one');

  const sent: SentMessage[] = [];
  const deleted: DeletedMessage[] = [];
  const bots = tokens.map(
    (token) =>
      new FakeBot(
        { ...botOptions, token },
        clock,
        (entry) => sent.push(entry),
        (entry) => deleted.push(entry),
      ),
  );
  const byToken = new Map(bots.map((bot) => [bot.token, bot]));
  if (byToken.size !== bots.length)
    throw new Error('startFakeBotApi: tokens repeat; give each bot its own');
  const server = new FakeBotServer(byToken, clock);
  const apiRoot = await server.listen(options.port);
  const first = bots[0];

  return {
    apiRoot,
    token: first.token,
    tokens: bots.map((bot) => bot.token),
    bots,
    bot(tokenOrIndex) {
      const found =
        typeof tokenOrIndex === 'number' ? bots[tokenOrIndex] : byToken.get(tokenOrIndex);
      if (!found)
        throw new Error(`fake Bot API: no bot ${String(tokenOrIndex)}; there are ${bots.length}`);
      return found;
    },
    sent,
    deleted,
    calls: server.calls,
    stats() {
      const byChat = new Map<number, ChatStats>();
      const forChat = (id: number) => {
        const stats = byChat.get(id) ?? { sent: 0, tooManyRequests: 0 };
        byChat.set(id, stats);
        return stats;
      };
      for (const entry of sent) forChat(entry.chatId).sent += 1;
      let tooManyRequests = 0;
      for (const call of server.calls) {
        if (call.status !== 429) continue;
        tooManyRequests += 1;
        if (call.chatId !== undefined) forChat(call.chatId).tooManyRequests += 1;
      }
      return { calls: server.calls.length, sent: sent.length, tooManyRequests, byChat };
    },
    pushUpdate: (update) => first.pushUpdate(update),
    pushMessage: (chatId, text, from) => first.pushMessage(chatId, text, from),
    pushCallbackQuery: (chatId, data, messageId, from) =>
      first.pushCallbackQuery(chatId, data, messageId, from),
    addChat: (chatId, info) => first.addChat(chatId, info),
    block: (chatId, reason) => first.block(chatId, reason),
    unblock: (chatId) => first.unblock(chatId),
    migrate: (chatId, toChatId) => first.migrate(chatId, toChatId),
    setWebhook: (url) => first.setWebhook(url),
    restartUpdateIds: (from) => first.restartUpdateIds(from),
    pendingUpdates: () => first.pendingUpdates(),
    holding: () => first.holding(),
    failNext(n, status = 502, faultOptions = {}) {
      if (!Number.isInteger(n) || n < 1)
        throw new Error(`failNext: ${n} is not a positive integer`);
      server.addFault({ status, remaining: n, ...faultOptions });
    },
    close: () => server.close(),
  };
}
