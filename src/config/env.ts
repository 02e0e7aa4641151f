import { z } from 'zod';
import { ConfigError } from '../errors.js';
import { readDotenv } from './dotenv-file.js';
import { redact } from '../logging/redact.js';
import { isSecretSetting } from '../logging/secrets.js';
import { MAX_TIMER_HELP, MAX_TIMER_MS, MAX_WAIT_MS } from '../jobs/limits.js';
import { DURATION_HELP, parseDuration } from '../util/duration.js';
import { EMAIL_ADDRESS_HELP, hasEmailAddress } from '../util/email-address.js';
import { queueVariableProblems } from './queue-policies.js';

const bool = z.string().transform((v, ctx) => {
  const t = v.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(t)) return true;
  if (['0', 'false', 'no', 'off', ''].includes(t)) return false;
  ctx.addIssue({ code: 'custom', message: 'one of: true, false, 1, 0, yes, no' });
  return z.NEVER;
});

/** A duration that arms a timer (QUEUE_LEASE is renewed on one): at most MAX_TIMER_MS. */
const timerDuration = z.string().transform((v, ctx) => {
  const ms = parseDuration(v);
  if (ms === undefined || ms <= 0) {
    ctx.addIssue({ code: 'custom', message: `a positive duration: ${DURATION_HELP}` });
    return z.NEVER;
  }
  if (ms > MAX_TIMER_MS) {
    ctx.addIssue({ code: 'custom', message: `a duration ${MAX_TIMER_HELP}` });
    return z.NEVER;
  }
  return ms;
});

/** A duration that is stored or compared, never timed (METRICS_RETENTION): up to MAX_WAIT_MS. */
const storedDuration = z.string().transform((v, ctx) => {
  const ms = parseDuration(v);
  if (ms === undefined || ms <= 0 || ms > MAX_WAIT_MS) {
    ctx.addIssue({ code: 'custom', message: `a positive duration: ${DURATION_HELP}` });
    return z.NEVER;
  }
  return ms;
});

const url = (schemes: string[]) => {
  const starting = `a URL starting with ${schemes.map((s) => `${s}://`).join(' or ')}`;
  return z.string().superRefine((v, ctx) => {
    const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(v)?.[1]?.toLowerCase();
    if (scheme === undefined || !schemes.includes(scheme)) {
      ctx.addIssue({ code: 'custom', message: starting });
      return;
    }
    try {
      new URL(v);
    } catch {
      // The scheme is right: say what else makes a URL not parse, not that the scheme is wrong.
      ctx.addIssue({
        code: 'custom',
        message: `${starting} that parses: a port is a number from 1 to 65535, and an @, : or / in the user or password is percent-encoded (%40, %3A, %2F)`,
      });
    }
  });
};

/**
 * A Telegram bot token as @BotFather issues it: the bot's id (digits), a colon, 35 letters,
 * digits, `_` or `-`. The bot id also keys the bot's rows in telegram_updates.
 */
export const TELEGRAM_TOKEN_SHAPE = /^\d{1,20}:[A-Za-z0-9_-]{35}$/;
export const TELEGRAM_TOKEN_HELP =
  'a bot token from @BotFather: the bot id (digits), a colon and 35 letters, digits, _ or - (123456789:AAH...)';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/**
 * Every environment variable jobsmith reads, validated once at start-up.
 * The README's configuration table mirrors this schema.
 */
const envSchema = z.object({
  DB_CONNECTION: z.enum(['sqlite', 'pgsql']).default('sqlite'),
  DB_DATABASE: z.string().min(1).default('storage/database.sqlite'),
  DATABASE_URL: url(['postgres', 'postgresql']).optional(),
  MIGRATE_ON_START: bool.default('true'),
  QUEUE_CONNECTION: z.enum(['database', 'redis', 'sync']).default('database'),
  QUEUE_LEASE: timerDuration.default('60s'),
  REDIS_URL: url(['redis', 'rediss'])
    .refine((v) => redisDatabase(v) !== undefined, {
      message:
        'a redis:// or rediss:// URL whose database (the path, or ?db=) is a whole number, such as redis://127.0.0.1:6379/0',
    })
    .default('redis://127.0.0.1:6379'),
  // The BullMQ key prefix; `{...}` (a Redis Cluster hash tag) is allowed.
  REDIS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.:{}-]{1,100}$/, 'letters, digits and . _ : - { } (at most 100)')
    .default('jobsmith'),
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  LOG_FILE: z.string().min(1).default('storage/logs/app.log'),
  // Prometheus metrics (src/telemetry, docs/telemetry.md). Off: nothing of it loads and no
  // port opens. On: each long-running command serves /metrics on METRICS_PORT (or its
  // --metrics-port), bound to METRICS_HOST; `run metrics:serve` takes them as its defaults.
  TELEMETRY_ENABLED: bool.default('false'),
  METRICS_PORT: z.coerce
    .number({ message: 'a port number from 1 to 65535' })
    .int('a port number from 1 to 65535')
    .min(1, 'a port number from 1 to 65535')
    .max(65535, 'a port number from 1 to 65535')
    .optional(),
  // Loopback unless said otherwise: the metrics name queues and jobs, and have no login.
  METRICS_HOST: z
    .string()
    .regex(
      /^[A-Za-z0-9.:_-]{1,253}$/,
      'a host name or IP address to listen on, such as 0.0.0.0 or ::1 (no brackets)',
    )
    .default('127.0.0.1'),
  // The dashboard and HTTP API (`run serve`, src/http, docs/dashboard.md). A bind other than
  // loopback needs the token (bearer, or basic auth with any user name); read-only refuses
  // every write.
  DASHBOARD_TOKEN: z
    .string()
    .min(16, 'at least 16 characters (run: openssl rand -hex 32)')
    .optional(),
  DASHBOARD_READ_ONLY: bool.default('false'),
  // How long workers keep job_metrics rows (src/metrics): older minutes are deleted.
  METRICS_RETENTION: storedDuration.default('7d'),
  // Checked here, so a malformed token stops every command before it runs; a missing one only
  // stops the Telegram commands (src/telegram/settings.ts), which say which variable to set.
  TELEGRAM_BOT_TOKEN: z
    .string()
    .superRefine((value, ctx) => {
      if (TELEGRAM_TOKEN_SHAPE.test(value)) return;
      // The value is masked in the message, so say what is off about it: most often a
      // character lost or added when pasting.
      const [id, rest] = value.split(/:(.*)/s);
      const found =
        rest === undefined
          ? 'it has no colon'
          : !/^\d{1,20}$/.test(id ?? '')
            ? 'the part before the colon is not the bot id (digits)'
            : /[^A-Za-z0-9_-]/.test(rest)
              ? 'the part after the colon has characters other than letters, digits, _ and -'
              : `the part after the colon has ${rest.length} characters`;
      ctx.addIssue({ code: 'custom', message: `${TELEGRAM_TOKEN_HELP}; ${found}` });
    })
    .optional(),
  TELEGRAM_API_ROOT: url(['http', 'https']).default('https://api.telegram.org'),
  // The folders telegram.send uploads local files from (src/telegram/upload.ts), comma-separated;
  // unset: the worker's working directory.
  TELEGRAM_UPLOAD_DIRS: z.string().optional(),
  // A user account for reading channels over MTProto (src/channels, docs/channels.md): the
  // app's api_id and api_hash from https://my.telegram.org/apps and a GramJS StringSession
  // (`run telegram:login`). Shapes are checked here; a missing one only stops the code that
  // reads channels, which names it. The hash and the session are masked everywhere.
  TELEGRAM_API_ID: z.coerce
    .number({ message: 'the api_id from https://my.telegram.org/apps: a whole number' })
    .int('the api_id from https://my.telegram.org/apps: a whole number')
    .positive('the api_id from https://my.telegram.org/apps: a whole number')
    .optional(),
  TELEGRAM_API_HASH: z
    .string()
    .regex(/^[0-9a-f]{32}$/i, 'the api_hash from https://my.telegram.org/apps: 32 hex digits')
    .optional(),
  TELEGRAM_SESSION: z
    .string()
    .regex(
      /^1[A-Za-z0-9+/=_-]+$/,
      'a GramJS StringSession as `run telegram:login` prints it (a 1 followed by base64)',
    )
    .optional(),
  // The gpt.complete job (src/gpt, docs/gpt.md). A missing key only stops GPT requests, which
  // say which variable to set. The base URL is the API's root, `/v1` included, as the openai
  // client takes it: another OpenAI-compatible server, Azure, or a local test server.
  OPENAI_API_KEY: z.string().optional(),
  OPENAI_BASE_URL: url(['http', 'https']).default('https://api.openai.com/v1'),
  OPENAI_MODEL: z.string().min(1).max(190).default('gpt-4o-mini'),
  // Per attempt: the request is aborted after it, and the attempt fails as a timeout.
  OPENAI_TIMEOUT: timerDuration.default('30s'),
  // Encrypted payloads (src/jobs/encryption, docs/workflows.md). Checked only where they are
  // used (dispatching or running an encrypted job), so an app that encrypts nothing never stops
  // on another framework's APP_KEY; masked everywhere (their last word is KEY / KEYS).
  APP_KEY: z.string().optional(),
  APP_PREVIOUS_KEYS: z.string().optional(),
  // SMTP (src/mail/settings.ts reads them together; a missing host only stops mail commands).
  MAIL_URL: url(['smtp', 'smtps']).optional(),
  MAIL_HOST: z.string().min(1).optional(),
  MAIL_PORT: z.coerce
    .number({ message: 'a port number from 1 to 65535' })
    .int('a port number from 1 to 65535')
    .min(1, 'a port number from 1 to 65535')
    .max(65535, 'a port number from 1 to 65535')
    .optional(),
  MAIL_USERNAME: z.string().optional(),
  MAIL_PASSWORD: z.string().optional(),
  // `ssl` is accepted for `tls` (Laravel's name for TLS from the first byte, port 465).
  MAIL_ENCRYPTION: z.enum(['tls', 'ssl', 'starttls', 'none']).optional(),
  MAIL_FROM: z.string().refine(hasEmailAddress, EMAIL_ADDRESS_HELP).optional(),
  // The folders mail.send reads attachments from (src/util/local-files.ts), comma-separated;
  // unset: the worker's working directory.
  MAIL_ATTACHMENT_DIRS: z.string().optional(),
  // Connecting and the server's greeting each get this long; a command on an open connection 3×.
  MAIL_TIMEOUT: timerDuration.default('10s'),
});

export type Env = z.infer<typeof envSchema>;

/**
 * The database number a Redis URL selects, as ioredis reads it: the path (`/2`), else `?db=2`,
 * else 0. Undefined when it is not a whole number (ioredis would send `SELECT NaN`, which Redis
 * answers with an error that crashed the process).
 */
export function redisDatabase(url: string): number | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 0; // not a URL at all: the URL check reports it
  }
  if (!/^rediss?:$/.test(parsed.protocol)) return 0; // the same
  const path = parsed.pathname.replace(/^\//, '');
  const text = path !== '' ? path : (parsed.searchParams.get('db') ?? '0');
  return /^\d{1,9}$/.test(text) ? Number(text) : undefined;
}

/** Variables that hold a duration (ms once parsed); shown as the syntax writes them (`1m`). */
export const DURATION_VARS = new Set([
  'QUEUE_LEASE',
  'OPENAI_TIMEOUT',
  'MAIL_TIMEOUT',
  'METRICS_RETENTION',
]);

/** Names of variables whose values are secrets and are masked by `run about`. */
export const SECRET_VARS = new Set(['DATABASE_URL', 'REDIS_URL', 'OPENAI_API_KEY', 'MAIL_URL']);

/**
 * Reads `.env` from `cwd` (if present) under the real environment: a variable that is set in
 * the process environment wins over the file.
 */
export function readEnvironment(
  cwd: string,
  processEnv: NodeJS.ProcessEnv = process.env,
): Record<string, string | undefined> {
  return { ...readDotenv(cwd), ...processEnv };
}

/** Validates the environment; a wrong value names the variable, the value and what is allowed. */
export function parseEnv(raw: Record<string, string | undefined>): Env {
  const input: Record<string, string> = {};
  for (const key of Object.keys(envSchema.shape)) {
    const value = raw[key];
    // An empty variable counts as unset, as in Laravel's env().
    if (value !== undefined && value !== '') input[key] = value;
  }
  const result = envSchema.safeParse(input);
  const lines = result.success
    ? []
    : result.error.issues.map((issue) => {
        const name = String(issue.path[0]);
        const allowed =
          issue.code === 'invalid_enum_value'
            ? `one of: ${issue.options.join(', ')}`
            : issue.message;
        return `${name}=${JSON.stringify(shownValue(name, input[name] ?? ''))} is not valid; expected ${allowed}.`;
      });
  // QUEUE_<NAME>_TRIES and the like: their names are the app's queues, not a fixed list.
  lines.push(...queueVariableProblems(raw));
  if (!result.success || lines.length > 0) {
    throw new ConfigError(`Invalid configuration: ${lines.join(' ')}`, {
      hint: 'Fix the variable in your environment or in .env.',
    });
  }
  const env = result.data;
  if (env.DB_CONNECTION === 'pgsql' && !env.DATABASE_URL) {
    throw new ConfigError('Invalid configuration: DB_CONNECTION=pgsql needs DATABASE_URL.', {
      // No user:password@ in the example: the redactor would print it as user:***@.
      hint: 'Set DATABASE_URL, for example postgres://postgres@127.0.0.1:5432/app.',
    });
  }
  return env;
}

/**
 * A refused value as the message shows it: a secret setting's never (the message reaches an
 * app's own log when it embeds jobsmith, where the CLI's masking does not run), a URL's password
 * masked, anything else as given.
 */
function shownValue(name: string, value: string): string {
  if (isSecretSetting(name)) return '***';
  return redact(value);
}
