/*
 * A connected GramJS client, made the one way both the channel reader (gramjs.ts) and the
 * sign-in (login-gramjs.ts) need it. GramJS loads here, at the first call, never when a module
 * that imports this one loads.
 *
 * GramJS choices (v2.26, client/telegramBaseClient.d.ts): `connectionRetries` and
 * `reconnectRetries` the same small number (the defaults, 5 and Infinity, loop on a dead
 * network: gram-js/gramjs#302, #303); its logger silenced (it prints each failed connect with a
 * stack; the errors reach the caller, mapped there).
 */
import type { TelegramClient } from 'telegram';

/** What a client is made with. */
export interface GramjsClientOptions {
  apiId: number;
  apiHash: string;
  /** A StringSession's text; '' for a new one. */
  session: string;
  /** Connection tries, and reconnection tries after a drop. */
  connectionRetries: number;
  /** GramJS sleeps through a FLOOD_WAIT up to this many seconds; a longer one is thrown. */
  floodSleepThreshold: number;
  /** Ms between connection tries. @defaultValue GramJS's (1000) */
  retryDelayMs?: number;
  /** Tries of one request on a transient error. @defaultValue GramJS's (5) */
  requestRetries?: number;
}

/**
 * A new GramJS client, connected. A client that could not connect is destroyed (its update loop
 * too) before this throws `Error('Connection to Telegram failed after N tries ...')`: GramJS's
 * connect() answers false rather than throwing.
 */
export async function connectedClient(options: GramjsClientOptions): Promise<TelegramClient> {
  const { TelegramClient } = await import('telegram');
  const { StringSession } = await import('telegram/sessions/index.js');
  const { Logger, LogLevel } = await import('telegram/extensions/Logger.js');
  const retries = options.connectionRetries;
  const made = new TelegramClient(
    new StringSession(options.session),
    options.apiId,
    options.apiHash,
    {
      connectionRetries: retries,
      reconnectRetries: retries,
      floodSleepThreshold: options.floodSleepThreshold,
      ...(options.retryDelayMs !== undefined ? { retryDelay: options.retryDelayMs } : {}),
      ...(options.requestRetries !== undefined ? { requestRetries: options.requestRetries } : {}),
      baseLogger: new Logger(LogLevel.NONE),
    },
  );
  let connected = false;
  try {
    connected = await made.connect();
  } finally {
    if (!connected) await made.destroy().catch(() => undefined);
  }
  if (!connected)
    throw new Error(
      `Connection to Telegram failed after ${retries} ${retries === 1 ? 'try' : 'tries'} (GramJS connectionRetries).`,
    );
  return made;
}
