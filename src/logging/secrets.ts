import { maskValues } from './redact.js';

/*
 * Which settings hold secrets, so their values are masked wherever they appear (DESIGN.md:
 * "every secret setting is masked by value and by pattern"). A setting is secret when the last
 * word of its name says so (MAIL_PASSWORD, TELEGRAM_BOT_TOKEN, OPENAI_API_KEY, APP_KEY,
 * TELEGRAM_SESSION, TELEGRAM_API_HASH, AWS_SECRET_ACCESS_KEY...) or when any word of it is
 * PASSWORD or SECRET (SECRET_KEY_BASE), unless the name ends in a word that says the value
 * is about the secret rather than the secret (MAIL_PASSWORD_FILE, TOKEN_TTL). The password of
 * every URL setting (DATABASE_URL, REDIS_URL, MAIL_URL, any other) is a secret too.
 */

/** A name whose last word is one of these holds a secret. */
const SECRET_LAST_WORDS = new Set([
  'PASSWORD',
  'PASSWD',
  'PASS',
  'PASSPHRASE',
  'SECRET',
  'SECRETS',
  'TOKEN',
  'TOKENS',
  'KEY',
  'KEYS',
  'APIKEY',
  'SESSION',
  'CREDENTIAL',
  'CREDENTIALS',
  'HASH',
  'AUTH',
  'COOKIE',
  'DSN',
]);
/** A name with one of these words anywhere holds a secret... */
const SECRET_ANY_WORDS = new Set(['PASSWORD', 'PASSWD', 'SECRET', 'CREDENTIALS', 'PRIVATE']);
/** ...unless it ends in one of these: it names a file, a length or a lifetime, not the secret. */
const ABOUT_A_SECRET = new Set([
  'FILE',
  'PATH',
  'DIR',
  'TTL',
  'LIFETIME',
  'TIMEOUT',
  'LENGTH',
  'EXPIRY',
  'EXPIRES',
  'DRIVER',
  'ENABLED',
  'NAME',
  'ID',
]);

/** Well-known secrets whose names the rules miss (one word, or PWD). */
const KNOWN_SECRETS = new Set(['PGPASSWORD', 'MYSQL_PWD', 'MYSQL_PASSWORD', 'REDISCLI_AUTH']);
/** Well-known settings the rules would take for secrets: a desktop's session name. */
const KNOWN_NOT_SECRETS = new Set(['DESKTOP_SESSION']);

/** True when the setting `name` holds a secret (see the rules above). */
export function isSecretSetting(name: string): boolean {
  const upper = name.toUpperCase();
  if (KNOWN_SECRETS.has(upper)) return true;
  if (KNOWN_NOT_SECRETS.has(upper)) return false;
  const words = upper.split(/[^A-Z0-9]+/).filter(Boolean);
  const last = words[words.length - 1];
  if (last === undefined || ABOUT_A_SECRET.has(last)) return false;
  return SECRET_LAST_WORDS.has(last) || words.some((w) => SECRET_ANY_WORDS.has(w));
}

/** The password of a URL, as written and decoded; none when `value` is not a URL with one. */
function urlPasswords(value: string): string[] {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return [];
  try {
    const { password } = new URL(value);
    if (!password) return [];
    const decoded = safeDecode(password);
    return decoded === password ? [password] : [password, decoded];
  } catch {
    return [];
  }
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * The secret values in an environment: the values of secret settings (also URL-encoded, as
 * they appear inside URLs) and the passwords inside URL settings.
 */
export function secretValues(env: Record<string, string | undefined>): string[] {
  const found = new Set<string>();
  for (const [name, value] of Object.entries(env)) {
    if (!value) continue;
    if (isSecretSetting(name)) {
      // A list (APP_PREVIOUS_KEYS=key1,key2) is masked whole and item by item.
      const items = value.includes(',') ? value.split(',').map((v) => v.trim()) : [];
      const keys = [value, ...items].map((v) => v.trim());
      // A Laravel-form key (APP_KEY=base64:...): its base64 part is the secret itself, and is
      // what code that decodes the key prints.
      const bodies = keys.filter((v) => v.startsWith('base64:')).map((v) => v.slice(7));
      for (const secret of [value, ...items, ...bodies].filter((v) => v.length >= 4)) {
        found.add(secret);
        const encoded = encodeURIComponent(secret);
        if (encoded !== secret) found.add(encoded);
      }
    }
    for (const password of urlPasswords(value)) found.add(password);
  }
  return [...found];
}

/**
 * Registers the secret values of `env` with the redactor, so they are masked in every output,
 * log line and stored error from now on. `run` calls this when it starts (with the environment
 * and .env), as does `connect()` from application code.
 */
export function maskSecretSettings(env: Record<string, string | undefined>): void {
  maskValues(secretValues(env));
}
