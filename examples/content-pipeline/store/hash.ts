import { createHash } from 'node:crypto';

/**
 * The content key a repost shares with its original (integrations.md §3): SHA-256, in hex, of
 * the text in Unicode NFKC with runs of whitespace collapsed to one space and the ends trimmed,
 * then a newline and the media ids sorted and joined by commas. NFKC folds look-alike forms
 * (full-width letters, ligatures) that a repost's editor may introduce; the media ids are
 * MTProto's photo/document ids, which a forwarded or re-uploaded-by-forward post keeps.
 */
export function contentHash(text: string, mediaIds: readonly string[] = []): string {
  const normalised = text.normalize('NFKC').replace(/\s+/gu, ' ').trim();
  const media = [...mediaIds].sort().join(',');
  return createHash('sha256').update(`${normalised}\n${media}`, 'utf8').digest('hex');
}
