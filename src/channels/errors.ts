/*
 * MTProto's errors, as GramJS throws them, mapped to the queue's: a flood wait to a RetryAfter
 * that pushes back the account's method for every job, a dead session to Permanent with the fix,
 * a lost connection or a timeout to a retryable error in plain words. Anything else passes
 * through unchanged.
 *
 * GramJS's classes (`telegram/errors`) load only when an error is mapped, never on the happy
 * path; an error that is not an instance of them (a second copy of the package) is recognised
 * by the fields every RPCError carries (`code`, `errorMessage`, FloodWaitError's `seconds`).
 *
 * Source for the error names: https://core.telegram.org/api/errors (420 FLOOD_WAIT_X, 406
 * AUTH_KEY_DUPLICATED, 401 AUTH_KEY_UNREGISTERED / SESSION_REVOKED...), and GramJS 2.26's
 * errors/RPCErrorList.js, which makes FLOOD_WAIT_X and FLOOD_PREMIUM_WAIT_X a FloodWaitError.
 */
import { Permanent, RetryAfter } from '../jobs/errors.js';

/** The rate limit a flood wait pushes back, keyed `<account>:<method>` (declared in limits.ts). */
export const MTPROTO_LIMIT = 'telegram.mtproto';

const LOGIN_FIX = 'Create a new session with `run telegram:login` and put it in TELEGRAM_SESSION.';

/**
 * Telegram made the account wait (FLOOD_WAIT_X) for `seconds` on `method`. A RetryAfter: the job
 * comes back after the wait without spending an attempt, and the worker pushes back the
 * `telegram.mtproto` key `<account>:<method>` so every job on that account and method waits too.
 */
export class ChannelFloodWait extends RetryAfter {
  constructor(
    readonly account: string,
    readonly method: string,
    seconds: number,
    options: { cause?: unknown } = {},
  ) {
    super(seconds, {
      limit: MTPROTO_LIMIT,
      key: `${account}:${method}`,
      message: `Telegram asks account ${account} to wait ${seconds}s before calling ${method} again (FLOOD_WAIT); the job and every other job on this account and method wait.`,
    });
    this.name = 'ChannelFloodWait';
    if (options.cause !== undefined) this.cause = options.cause;
  }
}

/**
 * The session can no longer be used (AUTH_KEY_DUPLICATED, AUTH_KEY_UNREGISTERED, SESSION_REVOKED
 * and their kin): Permanent, since every retry meets the same dead session.
 */
export class ChannelSessionError extends Permanent {
  constructor(
    readonly account: string,
    /** Telegram's error name, e.g. AUTH_KEY_DUPLICATED. */
    readonly reason: string,
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super(message, options);
    this.name = 'ChannelSessionError';
  }
}

/** A channel this account cannot read (private, unknown, banned): Permanent, for this channel. */
export class ChannelAccessError extends Permanent {
  constructor(
    readonly reason: string,
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super(message, options);
    this.name = 'ChannelAccessError';
  }
}

/**
 * Telegram could not be reached or did not answer in time (a lost connection, a timeout, a
 * server error): retryable, with the job's backoff.
 */
export class ChannelConnectionError extends Error {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, options);
    this.name = 'ChannelConnectionError';
  }
}

const SESSION_ERRORS: Record<string, string> = {
  AUTH_KEY_DUPLICATED:
    'the session was used by two connections at once (another process or machine uses TELEGRAM_SESSION), and Telegram has revoked it',
  AUTH_KEY_UNREGISTERED: 'the session is not signed in (it was logged out or never completed)',
  AUTH_KEY_INVALID: 'the session key is not valid',
  AUTH_KEY_PERM_EMPTY: 'the session has no permanent key',
  SESSION_REVOKED:
    'the session was ended (logged out from another device, or the account terminated it)',
  SESSION_EXPIRED: 'the session expired',
  USER_DEACTIVATED: 'the account was deleted',
  USER_DEACTIVATED_BAN: 'the account was banned',
};

const ACCESS_ERRORS: Record<string, string> = {
  CHANNEL_PRIVATE:
    'the channel is private, or the account was banned from it; join it with this account',
  CHANNEL_INVALID: 'the channel does not exist or is not a channel',
  CHANNEL_BANNED: 'the channel was banned',
  USERNAME_NOT_OCCUPIED: 'no channel has this username',
  USERNAME_INVALID: 'the username is not valid',
  CHAT_FORBIDDEN: 'the account cannot read this chat',
};

/** Where an error was met: the account, the MTProto method, the channel if any. */
export interface ChannelErrorContext {
  account: string;
  /** The request GramJS sent, as its class name (`messages.GetHistory`). */
  method: string;
  channel?: string;
}

interface RpcLike {
  code?: number;
  errorMessage: string;
  seconds?: number;
  message: string;
}

type GramErrors = typeof import('telegram/errors/index.js');
let gramErrors: Promise<GramErrors | undefined> | undefined;

/** GramJS's error classes, loaded at the first error to map; undefined if it is not installed. */
function loadGramErrors(): Promise<GramErrors | undefined> {
  gramErrors ??= import('telegram/errors/index.js').catch(() => undefined);
  return gramErrors;
}

function isRpcLike(error: unknown, classes: GramErrors | undefined): error is RpcLike {
  if (classes && error instanceof classes.RPCError) return true;
  const e = error as Partial<RpcLike> | null;
  return (
    error instanceof Error &&
    typeof e?.errorMessage === 'string' &&
    (e.code === undefined || typeof e.code === 'number')
  );
}

/** The request an RPCError names in its message (`... (caused by messages.GetHistory)`). */
function causedBy(error: { message: string }): string | undefined {
  return /\(caused by ([\w.]+)\)/.exec(error.message)?.[1];
}

/** Node's socket errors and GramJS's own plain Errors for a lost link or a timeout. */
function connectionReason(error: unknown): string | undefined {
  // MTProtoSender rejects pending requests with this string, not an Error.
  if (typeof error === 'string' && /reconnection retries/i.test(error))
    return 'the connection to Telegram broke and could not be restored';
  if (!(error instanceof Error)) return undefined;
  const code = (error as NodeJS.ErrnoException).code;
  if (
    code &&
    /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENOTFOUND|EAI_AGAIN|EPIPE|ENETUNREACH|EHOSTUNREACH)$/.test(
      code,
    )
  )
    return `the network failed (${code})`;
  const m = error.message;
  if (m === 'TIMEOUT' || /timed? ?out/i.test(m)) return 'Telegram did not answer in time';
  if (/disconnected|not connected|connection (closed|lost|to telegram failed)/i.test(m))
    return 'the connection to Telegram was lost';
  return undefined;
}

const MAPPED_NAMES = new Set([
  'ChannelFloodWait',
  'ChannelSessionError',
  'ChannelAccessError',
  'ChannelConnectionError',
]);

/** Whether `error` is one this module made (mapping it again changes nothing). */
function alreadyMapped(error: unknown): boolean {
  // By name too: a config loaded through jiti may hold its own copy of this module.
  const name = (error as Error | null)?.name;
  if (typeof name === 'string' && MAPPED_NAMES.has(name)) return true;
  return (
    error instanceof ChannelFloodWait ||
    error instanceof ChannelSessionError ||
    error instanceof ChannelAccessError ||
    error instanceof ChannelConnectionError
  );
}

/**
 * Maps an error GramJS threw (or the channels double, which throws GramJS's classes) to the
 * queue's errors; returns anything it does not know unchanged, so `throw await
 * mapChannelError(e, where)` is always safe.
 *
 * - FloodWaitError (420 FLOOD_WAIT_X, FLOOD_PREMIUM_WAIT_X) → ChannelFloodWait (a RetryAfter
 *   of `.seconds`, pushing back `telegram.mtproto` for `<account>:<method>`; the method is the
 *   request the error names, else `where.method`). SlowModeWaitError → a plain RetryAfter (it is
 *   per chat). Another 420 FLOOD → ChannelConnectionError (retry with backoff).
 * - AUTH_KEY_DUPLICATED, AUTH_KEY_UNREGISTERED, SESSION_REVOKED... → ChannelSessionError
 *   (Permanent), naming the fix: `run telegram:login`.
 * - CHANNEL_PRIVATE, USERNAME_NOT_OCCUPIED... → ChannelAccessError (Permanent) naming the channel.
 * - 500 server errors, 503 timeouts, TIMEOUT, "disconnected", socket errors →
 *   ChannelConnectionError (retryable), its message in plain words, the original as `cause`.
 */
export async function mapChannelError(
  error: unknown,
  where: ChannelErrorContext,
): Promise<unknown> {
  if (alreadyMapped(error) || error instanceof RetryAfter || error instanceof Permanent)
    return error;
  const lost = connectionReason(error);
  if (lost)
    return new ChannelConnectionError(
      `Could not ${describe(where)} for account ${where.account}: ${lost}.`,
      { cause: error },
    );
  const classes = await loadGramErrors();
  if (!isRpcLike(error, classes)) return error;
  const method = causedBy(error) ?? where.method;
  const seconds = error.seconds;
  const isFloodWait =
    (classes && error instanceof classes.FloodWaitError) ||
    (error.code === 420 &&
      typeof seconds === 'number' &&
      !(classes && error instanceof classes.SlowModeWaitError));
  if (isFloodWait && typeof seconds === 'number')
    return new ChannelFloodWait(where.account, method, seconds, { cause: error });
  if (classes && error instanceof classes.SlowModeWaitError)
    return new RetryAfter(
      error.seconds,
      `Telegram's slow mode: wait ${error.seconds}s (${method}).`,
    );

  const name = error.errorMessage;
  const session = SESSION_ERRORS[name];
  if (session)
    return new ChannelSessionError(
      where.account,
      name,
      `The Telegram session of account ${where.account} cannot be used: ${session} (${name}). ${LOGIN_FIX}`,
      { cause: error },
    );
  const access = ACCESS_ERRORS[name];
  if (access)
    return new ChannelAccessError(
      name,
      `Account ${where.account} cannot read ${where.channel ?? 'the channel'}: ${access} (${name}).`,
      { cause: error },
    );
  if (
    error.code === 420 ||
    (error.code !== undefined && error.code >= 500) ||
    name === 'RPC_CALL_FAIL'
  )
    return new ChannelConnectionError(
      `Telegram failed to ${describe(where)} for account ${where.account}: a server error or overload (${error.code ?? ''} ${name}).`,
      { cause: error },
    );
  return error;
}

function describe(where: ChannelErrorContext): string {
  return where.channel ? `call ${where.method} on ${where.channel}` : `call ${where.method}`;
}
