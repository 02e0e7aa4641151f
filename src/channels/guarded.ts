/*
 * The source a job's code gets inside withChannelSource: each MTProto call first takes a token
 * of the `telegram.mtproto` limit for `<account>:<method>` (so a key a flood wait pushed back
 * makes every job on it wait, without touching Telegram), then runs, its errors mapped
 * (errors.ts) and flood waits reported.
 */
import { RateLimitExceeded } from '../jobs/errors.js';
import type { FlowControl } from '../flow/types.js';
import { sleep } from '../util/sleep.js';
import { ChannelFloodWait, MTPROTO_LIMIT, mapChannelError } from './errors.js';
import type { ChannelSource } from './types.js';

/**
 * The request each method sends through GramJS, as its class name: the method half of the
 * `telegram.mtproto` key, and what a FloodWaitError's message names.
 */
export const METHODS = {
  connect: 'help.GetConfig',
  checkSession: 'users.GetUsers',
  readSince: 'messages.GetHistory',
  downloadMedia: 'upload.GetFile',
} as const;

/** A flood wait as the notify hook gets it. */
export interface FloodWaitNotice {
  /** The source's account name. */
  account: string;
  /** The MTProto request Telegram throttled (`messages.GetHistory`). */
  method: string;
  /** How long Telegram asks to wait, seconds. */
  seconds: number;
}

export interface GuardOptions {
  flow: FlowControl;
  signal: AbortSignal;
  /** Called for each flood wait met, before it is thrown. */
  onFlood(notice: FloodWaitNotice): Promise<void>;
}

/** `source` with each call rate-limited and its errors mapped; connect and close pass through. */
export function guardedSource(source: ChannelSource, options: GuardOptions): ChannelSource {
  const { flow, signal } = options;
  const rule = flow.rateLimits.get(MTPROTO_LIMIT);
  const account = source.account;

  async function call<T>(method: string, channel: string | undefined, run: () => Promise<T>) {
    if (rule) {
      const key = `${account}:${method}`;
      const decision = await flow.store.rateLimits.take([{ rule, key }], { booked: false });
      if (!decision.allowed) throw new RateLimitExceeded(decision.retryAfterMs, MTPROTO_LIMIT, key);
      if (decision.waitMs > 0) await sleep(decision.waitMs, signal);
    }
    try {
      return await run();
    } catch (error) {
      const mapped = await mapChannelError(error, { account, method, channel });
      if (mapped instanceof ChannelFloodWait)
        await options.onFlood({ account, method: mapped.method, seconds: mapped.seconds });
      throw mapped;
    }
  }

  return {
    account,
    sessionId: source.sessionId,
    connect: (s) => source.connect(s),
    checkSession: (s) => call(METHODS.checkSession, undefined, () => source.checkSession(s)),
    readSince: (channel, cursor, limit, s) =>
      call(METHODS.readSince, channel, () => source.readSince(channel, cursor, limit, s)),
    downloadMedia: (message, media, s) =>
      call(METHODS.downloadMedia, message.channel, () => source.downloadMedia(message, media, s)),
    close: () => source.close(),
  };
}
