/*
 * The stored form of an encrypted payload: JSON text like any payload (the payload column and
 * Redis' job data hold JSON), so every storage, listing and `queue:retry` keeps it as it is:
 *
 *   {"jobsmith:encrypted":1,"kid":"1a2b3c4d","iv":"<12 bytes>","tag":"<16 bytes>","data":"<…>"}
 *
 * `jobsmith:encrypted` is the form's version; `kid` the id of the key that sealed it (a hash of
 * the key, src/jobs/encryption/keys.ts); `iv`, `tag` and `data` are base64: AES-256-GCM's nonce,
 * its authentication tag and the ciphertext of the payload's JSON text. The job's name is the
 * additional authenticated data, so a sealed payload cannot be moved to another job.
 *
 * This file holds no crypto, so that the worker and the listings can recognise the form
 * without loading node:crypto.
 */

/** The first key of the stored form; its value is the form's version. */
export const ENCRYPTED_MARK = 'jobsmith:encrypted';

/** The stored form, once parsed. */
export interface Envelope {
  [ENCRYPTED_MARK]: 1;
  kid: string;
  iv: string;
  tag: string;
  data: string;
}

/** True for a parsed payload that is the stored form (of any version). */
export function isEnvelope(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && ENCRYPTED_MARK in value;
}

/** The start every stored form's text has: sealPayload writes the mark first. */
const PREFIX = `{"${ENCRYPTED_MARK}":`;

/** True for stored payload text that is an encrypted payload. */
export function isEncryptedText(text: string): boolean {
  return text.startsWith(PREFIX);
}
