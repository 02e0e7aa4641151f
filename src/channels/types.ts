/*
 * The narrow port between jobs that read Telegram channels and the MTProto client that reads
 * them (GramJS in production, a file-backed double in tests and the demo). Pure types: nothing
 * here loads GramJS.
 */

/** A piece of media attached to a channel message. */
export interface ChannelMedia {
  kind: 'photo' | 'video' | 'document';
  /** MTProto's id of the photo or document, as a decimal string (stable across reposts). */
  id: string;
  /** The document's MIME type; photos are image/jpeg. */
  mimeType?: string;
  /** Size in bytes, when Telegram says. */
  size?: number;
}

/** One message of a channel, as a collector needs it. */
export interface ChannelMessage {
  /** The channel as the caller named it (`@username` or a numeric id as a string). */
  channel: string;
  /** The message id within the channel: positive and increasing with time. */
  id: number;
  /** When it was posted, epoch ms. */
  date: number;
  /** The text, or the media's caption; '' when there is none. */
  text: string;
  /** The album's id (MTProto `grouped_id`): messages of one media group share it. */
  groupedId?: string;
  /** Its media, in order; absent for text only. */
  media?: ChannelMedia[];
}

/** Who the session belongs to, as `checkSession` finds it. */
export interface SessionAccount {
  /** The Telegram user id, as a decimal string. */
  userId: string;
  username?: string;
}

/**
 * A source of channel messages through one user account (one MTProto session). One process uses
 * a session at a time (Telegram answers a second, concurrent user of a session with
 * AUTH_KEY_DUPLICATED); callers hold the session's lease around connect...close.
 *
 * Errors: the GramJS adapter maps MTProto's errors to the queue's (a flood wait to RetryAfter,
 * a dead session to Permanent, a lost connection to a retryable error): see src/channels/errors.ts.
 */
export interface ChannelSource {
  /** A stable, non-secret name of the account (for leases, flood waits and logs); never the session. */
  readonly account: string;
  /**
   * A non-secret fingerprint of the session (sessionFingerprint: SHA-256, 16 hex digits), the key
   * of its lease: two sources on one session share it whatever their account names. Defaults to
   * `account`.
   */
  readonly sessionId?: string;
  /** Opens the connection. Idempotent. */
  connect(signal?: AbortSignal): Promise<void>;
  /** Checks that the session is still signed in (MTProto `users.getFullUser` of self / getMe). */
  checkSession(signal?: AbortSignal): Promise<SessionAccount>;
  /**
   * The channel's messages with an id above `cursor` (0: from the start), oldest first, at most
   * `limit` (1 to 100; MTProto's messages.getHistory returns at most 100 a call).
   */
  readSince(
    channel: string,
    cursor: number,
    limit: number,
    signal?: AbortSignal,
  ): Promise<ChannelMessage[]>;
  /** The bytes of one of a message's media. */
  downloadMedia(
    message: ChannelMessage,
    media: ChannelMedia,
    signal?: AbortSignal,
  ): Promise<Buffer>;
  /** Disconnects and frees the client (GramJS `destroy()`, which also stops its update loop). Idempotent. */
  close(): Promise<void>;
}
