import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { ConfigError } from '../../errors.js';
import { ENCRYPTED_MARK, type Envelope } from './envelope.js';
import { APP_KEY_UNSET, payloadKeys, type Keyring, type PayloadKey } from './keys.js';

/*
 * AES-256-GCM (node:crypto) over a payload's JSON text. A fresh 96-bit random nonce per payload;
 * the job's name is authenticated with it. See envelope.ts for the stored form.
 */

const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * The stored form of `plain` (a payload's JSON text) for job `jobName`, sealed with APP_KEY.
 *
 * @throws ConfigError naming APP_KEY and `run key:generate` when APP_KEY is unset or malformed.
 */
export function sealPayload(plain: string, jobName: string, keys: Keyring = payloadKeys()): string {
  const key = keys.current;
  if (!key) {
    throw new ConfigError(
      `Cannot dispatch ${jobName}: its payload is encrypted (defineJob({ encrypted: true })), and ${keys.currentProblem}.`,
      {
        // key:generate keeps an APP_KEY that has a value unless forced.
        hint:
          keys.currentProblem === APP_KEY_UNSET
            ? 'Run `run key:generate` to write APP_KEY to .env (or set APP_KEY to "base64:" and 32 random bytes in base64); the workers need the same APP_KEY.'
            : 'Set APP_KEY to "base64:" and 32 random bytes in base64 (`run key:generate --force` replaces it in .env); the workers need the same APP_KEY.',
      },
    );
  }
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key.secret, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(jobName, 'utf8'));
  const data = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  // Key order matters: the mark first, so listings recognise the text by its start.
  const envelope: Envelope = {
    [ENCRYPTED_MARK]: 1,
    kid: key.id,
    iv: iv.toString('base64'),
    tag: cipher.getAuthTag().toString('base64'),
    data: data.toString('base64'),
  };
  return JSON.stringify(envelope);
}

/** An opened payload's JSON text, or why it cannot be opened (a sentence, with the fix). */
export type Opened = { text: string } | { problem: string };

/**
 * Opens a stored form (parsed) of job `jobName` with the key its `kid` names, APP_KEY or one of
 * APP_PREVIOUS_KEYS. Never throws: a form no key opens gives a problem that names the payload's
 * key id, the ids this process has, and the fix; the worker fails such a job at once.
 */
export function openPayload(
  envelope: Record<string, unknown>,
  jobName: string,
  keys: Keyring = payloadKeys(),
): Opened {
  const { kid, iv, tag, data } = envelope;
  const version = envelope[ENCRYPTED_MARK];
  if (version !== 1) {
    return {
      problem: `Cannot open the encrypted payload of ${jobName}: its stored form is version ${JSON.stringify(version)}, and this jobsmith reads version 1. Run the job with the jobsmith version that dispatched it.`,
    };
  }
  if (typeof kid !== 'string' || !isBase64(iv) || !isBase64(tag) || !isBase64(data)) {
    return {
      problem: `Cannot open the encrypted payload of ${jobName}: its stored form is damaged (kid, iv, tag or data missing or not base64).`,
    };
  }
  const key = keys.all.find((k) => k.id === kid);
  if (!key) return { problem: noKeyProblem(jobName, kid, keys) };
  try {
    const decipher = createDecipheriv('aes-256-gcm', key.secret, Buffer.from(iv, 'base64'), {
      authTagLength: TAG_BYTES,
    });
    decipher.setAAD(Buffer.from(jobName, 'utf8'));
    decipher.setAuthTag(Buffer.from(tag, 'base64'));
    const plain = Buffer.concat([decipher.update(Buffer.from(data, 'base64')), decipher.final()]);
    return { text: plain.toString('utf8') };
  } catch {
    return {
      problem: `Cannot open the encrypted payload of ${jobName} with key ${describe(key)}: it does not authenticate, so it was altered or damaged in storage (or sealed for another job name).`,
    };
  }
}

function noKeyProblem(jobName: string, kid: string, keys: Keyring): string {
  const tried =
    keys.all.length > 0
      ? `this process has key${keys.all.length > 1 ? 's' : ''} ${keys.all.map(describe).join(', ')}`
      : 'this process has no key';
  const problems = [keys.currentProblem, ...keys.problems].filter(Boolean);
  const why = problems.length > 0 ? ` (${problems.join('; ')})` : '';
  return (
    `Cannot open the encrypted payload of ${jobName}: it was sealed with key ${kid}, and ${tried}${why}. ` +
    (keys.all.length === 0
      ? `Set APP_KEY (in the environment or .env) to the key it was sealed with, the APP_KEY of the process that dispatched it, restart the workers, then run queue:retry. `
      : `Set APP_PREVIOUS_KEYS to the key it was sealed with (the APP_KEY of when it was dispatched; comma-separated with any others), restart the workers, then run queue:retry. `) +
    `If APP_KEY was changed after this worker started (run key:generate --force), the job was sealed with the new key: restart the workers (run queue:restart), then run queue:retry.`
  );
}

function describe(key: PayloadKey): string {
  return `${key.id} (${key.source})`;
}

function isBase64(value: unknown): value is string {
  return typeof value === 'string' && /^[A-Za-z0-9+/]*={0,2}$/.test(value);
}
