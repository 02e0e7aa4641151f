import { isEncryptedText } from './envelope.js';

/** What listings show in place of an encrypted payload. */
export const ENCRYPTED_SHOWN = '[encrypted]';

/**
 * A stored payload as every listing shows it (`queue:list`, `queue:show`, `queue:failed`,
 * `queue:history`, their --json, and the dashboard's API and pages): `[encrypted]` for an
 * encrypted one (defineJob({ encrypted: true })), whose stored form only says which key sealed
 * it; the JSON text itself otherwise.
 */
export function showPayload(text: string): string {
  return isEncryptedText(text) ? ENCRYPTED_SHOWN : text;
}
