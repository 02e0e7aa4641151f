import { createHash } from 'node:crypto';

/*
 * Text as every backend can store it. PostgreSQL refuses NUL in text ("invalid byte sequence for
 * encoding UTF8: 0x00"), and every client turns a lone UTF-16 surrogate into U+FFFD on its way
 * to UTF-8 (so two different strings could arrive as one); columns have lengths (190 for names
 * and keys) that SQLite does not enforce and PostgreSQL does. Drivers and stores pass what they
 * write through these functions, so the same text comes back on SQLite, PostgreSQL and Redis.
 *
 * Lengths are counted in UTF-16 code units (JavaScript's `length`), never fewer than the
 * characters a column counts, so a bound here always fits the column.
 */

/** The longest unique key (and other identity) a column holds: `job_uniques.key`. */
export const KEY_MAX = 190;
/** An error message kept with a waiting job (`jobs.last_error`, Redis `failedReason`). */
export const ERROR_MAX = 8_000;
/** An error chain with its stacks (`failed_jobs.exception`). */
export const EXCEPTION_MAX = 64_000;
/** A line about a schedule slot's outcome (`schedule_slots.detail`). */
export const DETAIL_MAX = 2_000;
/** An error message printed on a terminal (worker lines, the CLI's error output). */
export const PRINT_MAX = 4_000;
/** One string field of a log line. */
export const LOG_FIELD_MAX = 8_000;

const NUL = /\0/g;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

/** True when `text` holds something a backend would refuse or change (NUL, a lone surrogate). */
export function hasUnstorable(text: string): boolean {
  NUL.lastIndex = 0;
  LONE_SURROGATE.lastIndex = 0;
  return NUL.test(text) || LONE_SURROGATE.test(text);
}

/**
 * `text` with NUL written as the six characters `\u0000` (so the message still shows where it
 * was) and every lone surrogate as U+FFFD, as the clients would have made it anyway. Text
 * without either comes back as it is (the same string, no copy).
 */
export function storableText(text: string): string {
  if (!hasUnstorable(text)) return text;
  return text.replace(NUL, '\\u0000').replace(LONE_SURROGATE, '\uFFFD');
}

/**
 * `text` cut to at most `max` code units, saying how much was cut:
 * `…[4,998,000 characters cut]`. Never splits a surrogate pair.
 */
export function boundText(text: string, max: number): string {
  if (text.length <= max) return text;
  const note = (n: number) => `…[${n.toLocaleString('en-US')} characters cut]`;
  // The note for the whole length is at least as long as the real one.
  let keep = Math.max(0, max - note(text.length).length);
  if (keep > 0 && isHighSurrogate(text.charCodeAt(keep - 1))) keep--;
  return `${text.slice(0, keep)}${note(text.length - keep)}`;
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

/** Storable and bounded: for messages, details and other text that is read, not matched. */
export function storableMessage(text: string, max: number): string {
  return boundText(storableText(text), max);
}

/** `#sha256:` and the digest in base64url (43 characters): how an encoded identity ends. */
const ENCODED_TAIL = /#sha256:[A-Za-z0-9_-]{43}$/;
const TAIL_LENGTH = '#sha256:'.length + 43;

/**
 * An identity (a unique key, a host name in a slot's primary key) as it is stored. Identities
 * are matched, not read, so they are never cut: one that cannot be stored as it is (NUL, a lone
 * surrogate, longer than `max`) is stored as a readable head and the SHA-256 of the whole
 * (`head#sha256:<43 base64url characters>`, at most `max` long; `max` ≥ 51), the same on every backend and in every process, so two dispatches of
 * the same key still meet and two different keys still differ. A key that already ends like an
 * encoded one is encoded too, so no key can be mistaken for another's encoding.
 */
export function storableKey(key: string, max = KEY_MAX): string {
  if (key.length <= max && !hasUnstorable(key) && !ENCODED_TAIL.test(key)) return key;
  // Hashed as UTF-16 code units, which keeps every string apart: UTF-8 would turn all lone
  // surrogates into U+FFFD and make "a\uD800" and "a\uDC00" one key.
  const digest = createHash('sha256').update(key, 'utf16le').digest('base64url');
  let head = storableText(key);
  let keep = Math.max(0, max - TAIL_LENGTH);
  if (head.length > keep) {
    if (keep > 0 && isHighSurrogate(head.charCodeAt(keep - 1))) keep--;
    head = head.slice(0, keep);
  }
  return `${head}#sha256:${digest}`;
}
