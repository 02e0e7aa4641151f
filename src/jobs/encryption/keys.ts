import { createHash, hkdfSync } from 'node:crypto';

/*
 * The keys of encrypted payloads (defineJob({ encrypted: true })): APP_KEY seals new payloads,
 * APP_PREVIOUS_KEYS (comma-separated) still open those sealed before a rotation. Both take
 * Laravel's form, so an app can share them with a Laravel app: `base64:` and 32 bytes in base64
 * (`run key:generate` writes one), or 32 characters as they are.
 */

/** What a key looks like, for messages. */
export const KEY_HELP =
  '"base64:" and 32 random bytes in base64 (run key:generate --show prints one), or 32 characters';

/** Keyring.currentProblem when APP_KEY has no value. */
export const APP_KEY_UNSET = 'APP_KEY is not set';

/** One usable key: the AES-256 key derived from it, its id, and the setting it came from. */
export interface PayloadKey {
  /** 8 hex characters: a hash of the key (never the key), stored with each payload it seals. */
  readonly id: string;
  /** The AES-256-GCM key, derived from the setting's 32 bytes (see deriveKey). */
  readonly secret: Buffer;
  /** Where it was set: `APP_KEY` or `APP_PREVIOUS_KEYS` (the nth, from 1). */
  readonly source: string;
}

/** The keys of one environment. */
export interface Keyring {
  /** The key new payloads are sealed with: APP_KEY; undefined when unset or malformed. */
  readonly current?: PayloadKey;
  /** Every usable key, APP_KEY first: the keys a sealed payload may be opened with. */
  readonly all: readonly PayloadKey[];
  /** What is wrong with APP_KEY (`APP_KEY is not set`, or malformed); undefined when usable. */
  readonly currentProblem?: string;
  /** Malformed entries of APP_PREVIOUS_KEYS, each naming its place (never its value). */
  readonly problems: readonly string[];
}

/**
 * The 32 bytes of a key written as Laravel writes APP_KEY: `base64:` and base64, else the text
 * itself (UTF-8). Returns a problem (which never quotes the value) when it is not 32 bytes.
 */
export function parseKey(text: string): Buffer | { problem: string } {
  const value = text.trim();
  if (value.startsWith('base64:')) {
    const b64 = value.slice('base64:'.length);
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64) || b64.length % 4 === 1) {
      return { problem: 'the part after "base64:" is not base64' };
    }
    const bytes = Buffer.from(b64, 'base64');
    if (bytes.length !== 32) {
      return { problem: `it decodes to ${bytes.length} bytes, not 32` };
    }
    return bytes;
  }
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.length !== 32) {
    return { problem: `it is ${bytes.length} bytes without a "base64:" prefix, not 32` };
  }
  return bytes;
}

/**
 * The AES key is derived (HKDF-SHA256) rather than the setting's bytes used as they are: an
 * APP_KEY shared with a Laravel app (AES-256-CBC and HMAC) then never keys a second cipher.
 */
function deriveKey(raw: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', raw, Buffer.alloc(0), 'jobsmith payloads v1', 32));
}

/** A key's id: 8 hex characters of a domain-separated SHA-256 of it (4 bytes reveal nothing). */
export function keyId(raw: Buffer): string {
  return createHash('sha256').update('jobsmith key id v1\0').update(raw).digest('hex').slice(0, 8);
}

function toKey(raw: Buffer, source: string): PayloadKey {
  return { id: keyId(raw), secret: deriveKey(raw), source };
}

/** The keyring of APP_KEY and APP_PREVIOUS_KEYS in `env` (empty values count as unset). */
export function loadKeyring(env: Record<string, string | undefined>): Keyring {
  const all: PayloadKey[] = [];
  let current: PayloadKey | undefined;
  let currentProblem: string | undefined;
  const appKey = env.APP_KEY?.trim();
  if (!appKey) {
    currentProblem = APP_KEY_UNSET;
  } else {
    const raw = parseKey(appKey);
    if (Buffer.isBuffer(raw)) all.push((current = toKey(raw, 'APP_KEY')));
    else currentProblem = `APP_KEY is not a valid key: ${raw.problem}`;
  }
  const problems: string[] = [];
  const previous = (env.APP_PREVIOUS_KEYS ?? '').split(',').map((k) => k.trim());
  let n = 0;
  for (const text of previous) {
    if (text === '') continue;
    n += 1;
    const raw = parseKey(text);
    if (Buffer.isBuffer(raw)) all.push(toKey(raw, `APP_PREVIOUS_KEYS (key ${n})`));
    else problems.push(`key ${n} of APP_PREVIOUS_KEYS is not a valid key: ${raw.problem}`);
  }
  return { current, all, currentProblem, problems };
}

/*
 * The keyring of the process. `run` (and connect()) hands it the environment it read (.env
 * under the real environment) when it starts, as it does for masking secrets; dispatch and the
 * worker read it from here, so no call between them has to carry keys. Parsed on first use: a
 * process that never meets an encrypted job never derives a key.
 */
let source: Record<string, string | undefined> | undefined;
let keyring: Keyring | undefined;

/** Sets the environment the keys come from (`App` calls it with .env under the environment). */
export function usePayloadKeys(env: Record<string, string | undefined>): void {
  const next = { APP_KEY: env.APP_KEY, APP_PREVIOUS_KEYS: env.APP_PREVIOUS_KEYS };
  if (
    source &&
    source.APP_KEY === next.APP_KEY &&
    source.APP_PREVIOUS_KEYS === next.APP_PREVIOUS_KEYS
  )
    return;
  source = next;
  keyring = undefined;
}

/** The process's keyring: from the environment `usePayloadKeys` got, else process.env. */
export function payloadKeys(): Keyring {
  keyring ??= loadKeyring(source ?? process.env);
  return keyring;
}
