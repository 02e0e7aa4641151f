/**
 * Removes secrets from any text before it is logged or printed. Applied to every log line
 * (pino's streamWrite hook) and every error message the CLI prints, so a secret that ends up
 * inside an error object from a library (grammY keeps `/bot<token>/` in its URLs) still
 * never reaches a terminal or a file.
 */

const MASK = '***';

type Replacement = string | ((match: string, ...groups: string[]) => string);

const PATTERNS: Array<[RegExp, Replacement]> = [
  // Telegram bot tokens: 123456789:AA... (digits, colon, 30+ url-safe characters). No \b in
  // front: in Bot API URLs the token follows "bot" directly (/bot123456789:AA.../getMe).
  [/(?<!\d)\d{6,}:[A-Za-z0-9_-]{30,}/g, `${MASK}`],
  // Credentials inside URLs: scheme://user:password@host → scheme://user:***@host
  [/\b([a-z][a-z0-9+.-]*:\/\/[^\s:/@]*):([^\s@/]+)@/gi, `$1:${MASK}@`],
  // OpenAI-style API keys.
  [/\bsk-[A-Za-z0-9_-]{16,}/g, `sk-${MASK}`],
  // key=value and "key":"value" pairs whose key names a secret. An auth scheme in front of the
  // value (Authorization: Bearer xyz) is kept and the credential after it masked.
  [
    /((?:password|passwd|pass|secret|token|api[_-]?key|apikey|authorization|session)["']?\s*[:=]\s*["']?)(?:(Bearer|Basic|Token)\s+)?([^\s"',&}]+)/gi,
    (_match, key: string, scheme: string | undefined) =>
      `${key}${scheme ? `${scheme} ` : ''}${MASK}`,
  ],
  // Bearer tokens in headers.
  [/\b(Bearer\s+)[A-Za-z0-9._~+/-]+=*/g, `$1${MASK}`],
];

/** Returns `text` with every known kind of secret replaced by `***`. */
export function redact(text: string): string {
  let out = text;
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
    return parsed.toString();
  } catch {
    return redact(url);
  }
}
