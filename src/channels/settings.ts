/*
 * What the GramJS adapter needs, and how it is read from the environment (TELEGRAM_API_ID,
 * TELEGRAM_API_HASH, TELEGRAM_SESSION; checked for shape in src/config/env.ts, for presence
 * here, only by the code that reads channels). Pure: no GramJS.
 */
import { parseEnv, readEnvironment, type Env } from '../config/env.js';
import { ConfigError } from '../errors.js';

/** The GramJS adapter's settings. */
export interface ChannelSettings {
  /** TELEGRAM_API_ID: the app's api_id from https://my.telegram.org/apps. */
  apiId: number;
  /** TELEGRAM_API_HASH: the app's api_hash (32 hex digits) from the same page. */
  apiHash: string;
  /** TELEGRAM_SESSION: a GramJS StringSession (`run telegram:login` prints one). A secret. */
  session: string;
  /**
   * The account's name in leases, flood-wait keys, logs and notices; never the session.
   * @defaultValue `session-` and the session's fingerprint (16 hex digits of its SHA-256)
   */
  account?: string;
  /** GramJS `connectionRetries` (and `reconnectRetries`). @defaultValue 3 */
  connectionRetries: number;
  /** GramJS `retryDelay`: the pause between its connection tries, ms. @defaultValue 1000 */
  retryDelayMs: number;
  /**
   * GramJS `floodSleepThreshold`, seconds: shorter flood waits are slept inside the call, longer
   * ones throw FloodWaitError (and the job waits in the queue instead). @defaultValue 5
   */
  floodSleepThreshold: number;
  /** GramJS `requestRetries` (server errors, short flood waits, DC migrations). @defaultValue 3 */
  requestRetries: number;
}

export const CHANNEL_DEFAULTS = {
  connectionRetries: 3,
  retryDelayMs: 1000,
  floodSleepThreshold: 5,
  requestRetries: 3,
} as const;

const WHERE = 'from https://my.telegram.org/apps, under API development tools';

/**
 * The adapter's settings: `overrides` (an account name, other GramJS figures) over the
 * defaults, and the three variables from `env`. `env` is the parsed Env, or raw variables (checked as src/config/env.ts
 * checks them); by default the process's environment over `.env` in the working directory, as
 * `run` reads them. Throws ConfigError naming each variable that is missing or malformed, and
 * where to get it.
 */
export function channelSettings(
  overrides: Partial<Omit<ChannelSettings, 'apiId' | 'apiHash' | 'session'>> = {},
  env:
    | Pick<Env, 'TELEGRAM_API_ID' | 'TELEGRAM_API_HASH' | 'TELEGRAM_SESSION'>
    | Record<string, string | undefined> = readEnvironment(process.cwd()),
): ChannelSettings {
  if (typeof env.TELEGRAM_API_ID !== 'number')
    env = parseEnv({
      TELEGRAM_API_ID: env.TELEGRAM_API_ID as string | undefined,
      TELEGRAM_API_HASH: env.TELEGRAM_API_HASH as string | undefined,
      TELEGRAM_SESSION: env.TELEGRAM_SESSION as string | undefined,
    });
  const missing = [
    env.TELEGRAM_API_ID === undefined && `TELEGRAM_API_ID (the api_id ${WHERE})`,
    env.TELEGRAM_API_HASH === undefined && `TELEGRAM_API_HASH (the api_hash ${WHERE})`,
    env.TELEGRAM_SESSION === undefined &&
      'TELEGRAM_SESSION (the session string `run telegram:login` prints)',
  ].filter((m): m is string => typeof m === 'string');
  if (missing.length > 0)
    throw new ConfigError(`Reading Telegram channels needs ${missing.join(', ')}.`, {
      hint: 'Set them in .env (docs/channels.md).',
    });
  return {
    ...CHANNEL_DEFAULTS,
    ...overrides,
    apiId: env.TELEGRAM_API_ID as number,
    apiHash: env.TELEGRAM_API_HASH as string,
    session: env.TELEGRAM_SESSION as string,
  };
}
