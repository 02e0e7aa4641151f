import { PRINT_MAX, boundText, storableText } from '../util/stored-text.js';
import { redact } from './redact.js';

/**
 * Text as it may be printed on a terminal: secrets masked, NUL shown as `\u0000` (as stored),
 * then cut to `max` characters with the cut noted (`…[4,996,000 characters cut]`). Masked
 * before it is cut, so a secret that straddles the cut never shows half of itself.
 */
export function printable(text: string, max = PRINT_MAX): string {
  return boundText(storableText(redact(text)), max);
}
