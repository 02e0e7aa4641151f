/*
 * Why a Telegram sign-in failed, in plain words with the fix: LoginError, and the mapping of
 * GramJS's errors (recognised by their fields, so GramJS never loads for it) to it.
 */
import { JobsmithError } from '../errors.js';

/** Where the API id and hash come from. */
export const WHERE = 'https://my.telegram.org/apps, under API development tools';

/** Telegram refused the sign-in, or could not be reached: the reason and the fix. Exit 1. */
export class LoginError extends JobsmithError {
  constructor(
    /** Telegram's error name (PHONE_CODE_INVALID, FLOOD_WAIT...), or CONNECTION. */
    readonly reason: string,
    message: string,
    options: { hint?: string; cause?: unknown } = {},
  ) {
    super(message, options);
  }
}

const RETRY = 'Run telegram:login again';

interface RpcLike {
  code?: number;
  errorMessage: string;
  seconds?: number;
}

/** GramJS's RPCError by its fields (`code`, `errorMessage`; FloodWaitError's `seconds`). */
function rpcOf(error: unknown): RpcLike | undefined {
  const e = error as Partial<RpcLike> | null;
  return error instanceof Error && typeof e?.errorMessage === 'string' ? (e as RpcLike) : undefined;
}

/** `n` seconds in words: "90 s (about 2 minutes)". */
function waitWords(seconds: number): string {
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${seconds} s (about ${Math.round(seconds / 60)} minutes)`;
  return `${seconds} s (about ${Math.round(seconds / 3600)} hours)`;
}

/**
 * The error sign-in met, in plain words with the fix: a LoginError for the ones below, the error
 * itself for anything else. Recognises GramJS's errors by their fields, so GramJS never loads
 * for this. Names from https://core.telegram.org/method/auth.sendCode, auth.signIn and
 * auth.checkPassword, and https://core.telegram.org/api/errors (420 FLOOD_WAIT_X).
 */
export function loginErrorOf(error: unknown, phone: string): unknown {
  if (error instanceof JobsmithError) return error;
  const rpc = rpcOf(error);
  if (!rpc) {
    const message = error instanceof Error ? error.message : String(error);
    const code = (error as NodeJS.ErrnoException | null)?.code;
    if (
      /connection to telegram failed|disconnected|not connected|timed? ?out|^TIMEOUT$|reconnection retries/i.test(
        message,
      ) ||
      (typeof code === 'string' && /^E[A-Z]+$/.test(code))
    )
      return new LoginError('CONNECTION', `Could not reach Telegram: ${message}`, {
        hint: `Check the network (a proxy or firewall may block MTProto, TCP port 443 to Telegram's data centres), then ${RETRY.toLowerCase()}.`,
        cause: error,
      });
    return error;
  }
  const name = rpc.errorMessage;
  if (typeof rpc.seconds === 'number' && (rpc.code === 420 || /FLOOD/.test(name)))
    return new LoginError(
      'FLOOD_WAIT',
      `Telegram asks to wait ${waitWords(rpc.seconds)} before this account tries to sign in again (FLOOD_WAIT_${rpc.seconds}).`,
      {
        hint: `Wait that long, then ${RETRY.toLowerCase()}; trying sooner does not help.`,
        cause: error,
      },
    );
  const known = LOGIN_ERRORS[name];
  if (known) {
    const [message, hint] = known(phone);
    return new LoginError(name, `${message} (${name}).`, { hint, cause: error });
  }
  return new LoginError(name, `Telegram refused the sign-in: ${name} (${rpc.code ?? '?'}).`, {
    hint: `See https://core.telegram.org/api/errors; ${RETRY.toLowerCase()} once it is fixed.`,
    cause: error,
  });
}

const LOGIN_ERRORS: Record<string, (phone: string) => [message: string, hint: string]> = {
  PHONE_NUMBER_INVALID: (phone) => [
    `Telegram does not take ${phone} as a phone number`,
    'Give it in international format with the country code, e.g. --phone +4915123456789.',
  ],
  PHONE_NUMBER_BANNED: (phone) => [
    `Telegram has banned ${phone}`,
    'Sign in with another account, or ask Telegram (recover@telegram.org).',
  ],
  PHONE_NUMBER_FLOOD: (phone) => [
    `Too many login codes were asked for ${phone}`,
    'Wait a while (hours, at worst a day), then run telegram:login again.',
  ],
  PHONE_PASSWORD_FLOOD: () => [
    'Too many sign-in attempts',
    'Wait a while (hours, at worst a day), then run telegram:login again.',
  ],
  PHONE_CODE_INVALID: () => [
    'The login code is wrong',
    'Check the code Telegram sent (in the Telegram app, else by SMS) and run the same command with the right --code; that code stays valid for a few minutes.',
  ],
  PHONE_CODE_EMPTY: () => ['The login code is empty', 'Pass the code Telegram sent with --code.'],
  PHONE_CODE_EXPIRED: () => [
    'The login code expired (a code also expires once it is sent in a Telegram message)',
    'Run telegram:login again without --code: Telegram sends a new one.',
  ],
  PHONE_CODE_HASH_EMPTY: () => [
    'The login code does not belong to this sign-in',
    'Run telegram:login again without --code: Telegram sends a new one.',
  ],
  PASSWORD_HASH_INVALID: () => [
    'The two-step verification password is wrong',
    'Run the same command with the right --password (the code is not needed again), or reset the password in a Telegram app.',
  ],
  API_ID_INVALID: () => [
    'Telegram does not accept TELEGRAM_API_ID and TELEGRAM_API_HASH as a pair',
    `Copy both from ${WHERE}.`,
  ],
  API_ID_PUBLISHED_FLOOD: () => [
    'Telegram has blocked this api_id because it was published',
    `Create your own app at ${WHERE} and use its api_id and api_hash.`,
  ],
  PHONE_NUMBER_UNOCCUPIED: (phone) => [
    `No Telegram account uses ${phone}`,
    'Sign up with a Telegram app first, then run telegram:login again.',
  ],
  AUTH_RESTART: () => [
    'Telegram restarted the sign-in',
    'Run telegram:login again without --code.',
  ],
};
