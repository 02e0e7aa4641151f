/**
 * A clean slate of jobsmith's own environment variables for spawned CLIs, so a developer's
 * shell (DB_CONNECTION=pgsql, LOG_LEVEL=debug...) never changes what a test sees.
 * Pass the result as `env` to runCli/spawnCli: `runCli(['about'], { cwd, env: appEnv({...}) })`.
 */
export const JOBSMITH_VARIABLES = [
  'DB_CONNECTION',
  'DB_DATABASE',
  'DATABASE_URL',
  'MIGRATE_ON_START',
  'QUEUE_CONNECTION',
  'QUEUE_LEASE',
  'REDIS_URL',
  'REDIS_PREFIX',
  'LOG_LEVEL',
  'LOG_FILE',
  'TELEMETRY_ENABLED',
  'METRICS_PORT',
  'METRICS_HOST',
  'METRICS_RETENTION',
  'DASHBOARD_TOKEN',
  'DASHBOARD_READ_ONLY',
  'TELEGRAM_BOT_TOKEN',
  'TELEGRAM_API_ROOT',
  'TELEGRAM_UPLOAD_DIRS',
  'MAIL_ATTACHMENT_DIRS',
  'TELEGRAM_API_ID',
  'TELEGRAM_API_HASH',
  'TELEGRAM_SESSION',
  'OPENAI_API_KEY',
  'OPENAI_BASE_URL',
  'OPENAI_MODEL',
  'OPENAI_TIMEOUT',
  'MAIL_URL',
  'MAIL_HOST',
  'MAIL_PORT',
  'MAIL_USERNAME',
  'MAIL_PASSWORD',
  'MAIL_ENCRYPTION',
  'MAIL_FROM',
  'MAIL_TIMEOUT',
  'APP_KEY',
  'APP_PREVIOUS_KEYS',
  'JOBSMITH_CONFIG',
  // Read by src/db/pg-url.ts when DATABASE_URL names no sslmode.
  'PGSSLMODE',
] as const;

/** Every jobsmith variable unset, then `extra` on top (`undefined` still removes one). */
export function appEnv(
  extra: Record<string, string | undefined> = {},
): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {};
  for (const name of JOBSMITH_VARIABLES) env[name] = undefined;
  return { ...env, ...extra };
}
