import { LOG_FIELD_MAX, boundText } from '../util/stored-text.js';
import { redact } from './redact.js';

/** Lines up to this long are written as they are; only longer ones are looked into. */
const LINE_MAX = 16_000;

/**
 * A pino JSON line whose strings are each at most LOG_FIELD_MAX characters (the cut noted), so a
 * 5 MB error message does not become a 5 MB log line. Short lines, nearly all of them, pass as
 * they are. Each string is masked again before it is cut, so a secret at the cut cannot show
 * half of itself.
 */
export function boundLogLine(line: string): string {
  if (line.length <= LINE_MAX) return line;
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return `${boundText(line.trimEnd(), LINE_MAX)}\n`;
  }
  return `${JSON.stringify(boundStrings(parsed, 0))}\n`;
}

function boundStrings(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return boundText(redact(value), LOG_FIELD_MAX);
  if (depth > 8 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => boundStrings(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = boundStrings(v, depth + 1);
  return out;
}
