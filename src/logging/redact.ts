/**
 * Removes secrets from any text before it is logged, printed or stored. Applied to every log
 * line (pino's streamWrite hook), every error message the CLI prints, worker lines, listings and
 * every error a driver stores, so a secret that ends up inside an error object from a library
 * (grammY keeps `/bot<token>/` in its URLs) still never reaches a terminal, a file or a table.
 *
 * Two ways, both always applied: by value (the values of the secret settings, registered with
 * `maskValues`; see src/logging/secrets.ts) and by pattern (the shapes secrets take: bot tokens,
 * URL passwords, `sk-` keys, `password=...` pairs, Bearer tokens), for secrets we were never told.
 */

const MASK = '***';

// String.replace's callback: the match, the groups, then the offset and the whole text.
type Replacement = string | ((match: string, ...rest: unknown[]) => string);

/**
 * The end of a setting's name in capitals (the match starts after its `_`: TELEGRAM_BOT_TOKEN)
 * followed by a colon and a space: prose, not a pair.
 */
const SETTING_IN_PROSE = /^[A-Z][A-Z_]*: +$/;

const PATTERNS: Array<[RegExp, Replacement]> = [
  // Telegram bot tokens: 123456789:AA... (digits, colon, 30+ url-safe characters). No \b in
  // front: in Bot API URLs the token follows "bot" directly (/bot123456789:AA.../getMe).
  [/(?<!\d)\d{6,}:[A-Za-z0-9_-]{30,}/g, `${MASK}`],
  // Credentials inside URLs: scheme://user:password@host → scheme://user:***@host. The password
  // runs to the last "@" before the host: a raw "@" in a password (`redis://:p@ssw0rd@host`)
  // would otherwise leave its tail in clear.
  [/\b([a-z][a-z0-9+.-]*:\/\/[^\s:/@]*):([^\s/]+)@/gi, `$1:${MASK}@`],
  // OpenAI-style API keys.
  [/\bsk-[A-Za-z0-9_-]{16,}/g, `sk-${MASK}`],
  // key=value and "key":"value" pairs whose key names a secret. An auth scheme in front of the
  // value (Authorization: Bearer xyz) is kept and the credential after it masked. Not a URL's
  // user name (smtp://apikey:***@host, masked above): its "value" would swallow the host; nor a
  // file path's last part ("Cannot attach /etc/passwd: it is outside..."); nor a setting's name
  // in capitals before a colon and a space, which is prose ("Check TELEGRAM_BOT_TOKEN: copy the
  // token...", "from TELEGRAM_BOT_TOKEN: Unauthorized."): masking there took the reason and the
  // fix out of our own messages. Such a setting's value is masked by value (maskValues), and
  // written as a pair it has "=" (TELEGRAM_BOT_TOKEN=...), which is still masked.
  [
    /(?<!\/)((?:password|passwd|pass|secret|token|api[_-]?key|apikey|authorization|session)["']?\s*[:=]\s*["']?)(?:(Bearer|Basic|Token)\s+)?([^\s"',&}]+)/gi,
    (match, ...rest) => {
      const [key, scheme, , at, text] = rest as [
        string,
        string | undefined,
        string,
        number,
        string,
      ];
      return text[at - 1] === '_' && SETTING_IN_PROSE.test(key)
        ? match
        : `${key}${scheme ? `${scheme} ` : ''}${MASK}`;
    },
  ],
  // Bearer tokens in headers.
  [/\b(Bearer\s+)[A-Za-z0-9._~+/-]+=*/g, `$1${MASK}`],
];

/**
 * Secret values shorter than this are not masked by value: masking "1" or "dev" wherever it
 * appears would garble every message. Their `NAME=value` form is still masked by pattern.
 */
export const MIN_SECRET_LENGTH = 4;

/**
 * Secret values shorter than this are masked only where they stand as a word of their own: a
 * password "pass" masked inside "password" garbled the message ("The ***word reset message")
 * and told the reader the password. Longer values are masked wherever they appear.
 */
const WHOLE_WORD_BELOW = 8;

/** Registered secret values, and one pattern matching any of them (longest first). */
const values = new Set<string>();
let valuePattern: RegExp | undefined;

/**
 * Registers secret values to mask wherever they appear, in every later `redact`. Values shorter
 * than MIN_SECRET_LENGTH are ignored. Registering the same value again changes nothing.
 */
export function maskValues(secrets: Iterable<string>): void {
  let added = false;
  for (const value of secrets) {
    if (typeof value !== 'string' || value.length < MIN_SECRET_LENGTH || values.has(value)) {
      continue;
    }
    values.add(value);
    added = true;
  }
  if (!added) return;
  const alternatives = [...values]
    .sort((a, b) => b.length - a.length)
    .map((v) => {
      const escaped = v.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      return v.length < WHOLE_WORD_BELOW ? `(?<![A-Za-z0-9])${escaped}(?![A-Za-z0-9])` : escaped;
    });
  valuePattern = new RegExp(alternatives.join('|'), 'g');
}

/** Forgets every registered value (tests). */
export function clearMaskedValues(): void {
  values.clear();
  valuePattern = undefined;
}

/** Returns `text` with every registered secret value and every known kind of secret replaced by `***`. */
export function redact(text: string): string {
  let out = valuePattern ? text.replace(valuePattern, MASK) : text;
  for (const [pattern, replacement] of PATTERNS) {
    out =
      typeof replacement === 'string'
        ? out.replace(pattern, replacement)
        : out.replace(pattern, replacement);
  }
  return out;
}

/** Masks the password of a connection URL for display (`postgres://u:***@host/db`). */
export function maskUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = MASK;
    return redact(parsed.toString());
  } catch {
    return redact(url);
  }
}
