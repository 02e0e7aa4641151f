/*
 * The ChannelSource over GramJS (the npm package `telegram`, MTProto as a user account).
 * GramJS loads at the first connect(), never when this module loads: a worker or command that
 * reads no channel never pays for it (half a second and its update loop).
 *
 * GramJS choices (v2.26, client/telegramBaseClient.d.ts): `connectionRetries` and
 * `reconnectRetries` 3 (the defaults, 5 and Infinity, loop on a dead network: gram-js/gramjs#302,
 * #303); `floodSleepThreshold` 5 s, so a longer wait surfaces as FloodWaitError and the queue
 * waits instead of a worker sleeping inside its lease; its logger silenced (it prints each
 * failed connect with a stack; the errors reach the job, mapped); `destroy()` on close, which
 * also stops the update loop `disconnect()` leaves running (gram-js/gramjs#615).
 */
import type { TelegramClient } from 'telegram';
import type { Api } from 'telegram/tl/index.js';
import { connectedClient } from './gramjs-client.js';
import { sessionFingerprint } from './lease.js';
import type { ChannelSettings } from './settings.js';
import type { ChannelMedia, ChannelMessage, ChannelSource, SessionAccount } from './types.js';

/** Raw messages kept from readSince for downloadMedia, at most this many. */
const KEPT_MESSAGES = 500;

/**
 * A ChannelSource reading channels through GramJS with `settings` (channelSettings(env) reads
 * them from TELEGRAM_API_ID, TELEGRAM_API_HASH and TELEGRAM_SESSION). Make one per job attempt:
 * a closed source connects again with a fresh client.
 *
 * Errors come out as GramJS throws them; withChannelSource maps them (src/channels/errors.ts).
 * connect() throws `Error('Connection to Telegram failed after N tries')` when GramJS gives up
 * (its connect() answers false rather than throwing).
 */
export function gramjsSource(settings: ChannelSettings): ChannelSource {
  const sessionId = sessionFingerprint(settings.session);
  const account = settings.account ?? `session-${sessionId}`;
  let client: TelegramClient | undefined;
  let connecting: Promise<TelegramClient> | undefined;
  const kept = new Map<string, Api.Message>();

  async function open(): Promise<TelegramClient> {
    return connectedClient({
      apiId: settings.apiId,
      apiHash: settings.apiHash,
      session: settings.session,
      connectionRetries: settings.connectionRetries,
      floodSleepThreshold: settings.floodSleepThreshold,
      retryDelayMs: settings.retryDelayMs,
      requestRetries: settings.requestRetries,
    });
  }

  function live(): TelegramClient {
    if (!client)
      throw new Error('Cannot send requests while disconnected. You need to call .connect()');
    return client;
  }

  return {
    account,
    sessionId,

    async connect(signal) {
      signal?.throwIfAborted();
      if (client) return;
      connecting ??= open().finally(() => {
        connecting = undefined;
      });
      const made = await abortable(connecting, signal);
      client = made;
    },

    async checkSession(signal): Promise<SessionAccount> {
      const me = await abortable(live().getMe(), signal);
      return {
        userId: me.id.toString(),
        ...(me.username ? { username: me.username } : {}),
      };
    },

    async readSince(channel, cursor, limit, signal): Promise<ChannelMessage[]> {
      if (!Number.isInteger(limit) || limit < 1 || limit > 100)
        throw new RangeError(`readSince takes a limit of 1 to 100, got ${limit}.`);
      // reverse: oldest first, starting after minId (GramJS makes minId the offset then).
      const list = await abortable(
        live().getMessages(entityOf(channel), { minId: cursor, limit, reverse: true }),
        signal,
      );
      const messages: ChannelMessage[] = [];
      for (const raw of list) {
        if (raw.className !== 'Message' || raw.id <= cursor) continue;
        keep(kept, `${channel}:${raw.id}`, raw);
        messages.push(toChannelMessage(channel, raw));
      }
      return messages.sort((a, b) => a.id - b.id);
    },

    async downloadMedia(message, media, signal): Promise<Buffer> {
      const c = live();
      let raw = kept.get(`${message.channel}:${message.id}`);
      if (!raw) {
        const [found] = await abortable(
          c.getMessages(entityOf(message.channel), { ids: message.id }),
          signal,
        );
        if (!found) throw new Error(`Message ${message.id} of ${message.channel} is gone.`);
        raw = found;
      }
      const own = mediaOf(raw);
      if (!own || own.id !== media.id)
        throw new Error(
          `Message ${message.id} of ${message.channel} has no media ${media.id} (it has ${own?.id ?? 'none'}).`,
        );
      const bytes = await abortable(c.downloadMedia(raw, {}), signal);
      if (!Buffer.isBuffer(bytes))
        throw new Error(`Telegram returned no bytes for media ${media.id} of ${message.channel}.`);
      return bytes;
    },

    async close() {
      const c = client ?? (await connecting?.catch(() => undefined));
      client = undefined;
      kept.clear();
      await c?.destroy();
    },
  };
}

/** `@name` as GramJS takes it, a numeric id (`-1001234567890`) as a number. */
function entityOf(channel: string): string | number {
  return /^-?\d{1,15}$/.test(channel) ? Number(channel) : channel;
}

function keep(kept: Map<string, Api.Message>, key: string, raw: Api.Message): void {
  kept.set(key, raw);
  if (kept.size > KEPT_MESSAGES) kept.delete(kept.keys().next().value!);
}

function toChannelMessage(channel: string, raw: Api.Message): ChannelMessage {
  const media = mediaOf(raw);
  return {
    channel,
    id: raw.id,
    // MTProto dates are Unix seconds.
    date: raw.date * 1000,
    text: raw.message ?? '',
    ...(raw.groupedId ? { groupedId: raw.groupedId.toString() } : {}),
    ...(media ? { media: [media] } : {}),
  };
}

/** A message's media as ChannelMedia (an MTProto message carries at most one). */
function mediaOf(raw: Api.Message): ChannelMedia | undefined {
  const m = raw.media;
  if (m?.className === 'MessageMediaPhoto' && m.photo?.className === 'Photo')
    return { kind: 'photo', id: m.photo.id.toString(), mimeType: 'image/jpeg' };
  if (m?.className === 'MessageMediaDocument' && m.document?.className === 'Document') {
    const d = m.document;
    return {
      kind: d.mimeType.startsWith('video/') ? 'video' : 'document',
      id: d.id.toString(),
      mimeType: d.mimeType,
      size: Number(d.size.toString()),
    };
  }
  return undefined;
}

/** `promise`, or the signal's reason as soon as it aborts (GramJS takes no signal). */
function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  signal.throwIfAborted();
  return new Promise<T>((resolve, reject) => {
    const stop = () => reject(signal.reason);
    signal.addEventListener('abort', stop, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', stop));
  });
}
