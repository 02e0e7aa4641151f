/*
 * The public channels entry point, `jobsmith/channels`: reading Telegram channels as a user
 * account (MTProto) from jobs. Kept off `jobsmith` itself so an app that reads no channel never
 * loads it; GramJS loads at the first connect() of a gramjsSource, not here (docs/channels.md).
 */
export type { ChannelMedia, ChannelMessage, ChannelSource, SessionAccount } from './types.js';
export type { ChannelsConfig } from '../config/define.js';
export {
  ChannelAccessError,
  ChannelConnectionError,
  ChannelFloodWait,
  ChannelSessionError,
  mapChannelError,
  MTPROTO_LIMIT,
  type ChannelErrorContext,
} from './errors.js';
export { CHANNEL_RATE_LIMITS } from './limits.js';
export { METHODS, type FloodWaitNotice } from './guarded.js';
export { sessionFingerprint } from './lease.js';
export {
  withChannelSource,
  type ChannelJobContext,
  type ChannelSession,
  type ChannelSessionOptions,
} from './session.js';
export { channelSession, channelSessionOf } from './middleware.js';
export { gramjsSource } from './gramjs.js';
export { CHANNEL_DEFAULTS, channelSettings, type ChannelSettings } from './settings.js';
