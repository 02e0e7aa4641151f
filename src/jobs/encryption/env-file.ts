import { randomBytes } from 'node:crypto';
import { parse as parseDotenv } from 'dotenv';
import { JobsmithError } from '../../errors.js';
import { keyId, parseKey } from './keys.js';

/*
 * `run key:generate`: a new APP_KEY, and the .env text that holds it. Pure functions over the
 * file's text; the command reads and writes the file.
 */

/** A new key in Laravel's form: `base64:` and 32 random bytes in base64. */
export function generateKey(): string {
  return `base64:${randomBytes(32).toString('base64')}`;
}

/** What writing a key to .env changes. */
export interface KeyUpdate {
  /** The file's new text. */
  text: string;
  /** The id of the key written. */
  id: string;
  /** The id of the APP_KEY replaced (--force); undefined when there was none. */
  replacedId?: string;
  /**
   * True when the replaced key was put first in APP_PREVIOUS_KEYS, so jobs sealed with it still
   * open; false when it was not a valid key (nothing could be sealed with it).
   */
  keptPrevious?: boolean;
}

/** `NAME=...` on a line of its own, `export NAME=...` too. */
function linePattern(name: string): RegExp {
  return new RegExp(`^[ \\t]*(?:export[ \\t]+)?${name}[ \\t]*=.*$`, 'm');
}

/** The value a .env line gives its variable, as dotenv reads it (quotes removed). */
function valueOf(line: string, name: string): string {
  return (parseDotenv(line.replace(/^[ \t]*export[ \t]+/, ''))[name] ?? '').trim();
}

/**
 * The text of `.env` (undefined: no file yet) with APP_KEY set to `key`. An APP_KEY with a value
 * is replaced only with `force`, and the key it held goes first into APP_PREVIOUS_KEYS: jobs
 * already sealed with it, waiting or failed, keep opening (the file held it in plain already).
 *
 * @throws JobsmithError when APP_KEY has a value and `force` is not given.
 */
export function withAppKey(text: string | undefined, key: string, force: boolean): KeyUpdate {
  const id = keyId(parseKey(key) as Buffer);
  const current = text ?? '';
  const line = linePattern('APP_KEY').exec(current);
  if (!line) {
    const sep = current === '' || current.endsWith('\n') ? '' : '\n';
    return { text: `${current}${sep}APP_KEY=${key}\n`, id };
  }
  const old = valueOf(line[0], 'APP_KEY');
  if (old === '') return { text: replaceLine(current, line, `APP_KEY=${key}`), id };
  const oldKey = parseKey(old);
  const oldId = Buffer.isBuffer(oldKey) ? keyId(oldKey) : undefined;
  if (!force) {
    throw new JobsmithError(
      `APP_KEY is already set in .env${oldId ? ` (key ${oldId})` : ''}; nothing was written.`,
      {
        hint: 'Pass --force to replace it (the old key moves to APP_PREVIOUS_KEYS, so jobs sealed with it still open), or --show to print a new key without writing it.',
      },
    );
  }
  let next = replaceLine(current, line, `APP_KEY=${key}`);
  if (!oldId) return { text: next, id, replacedId: undefined, keptPrevious: false };
  const previousLine = linePattern('APP_PREVIOUS_KEYS').exec(next);
  const others = previousLine
    ? valueOf(previousLine[0], 'APP_PREVIOUS_KEYS')
        .split(',')
        .map((k) => k.trim())
        .filter((k) => k !== '' && k !== old)
    : [];
  const keys = `APP_PREVIOUS_KEYS=${[old, ...others].join(',')}`;
  if (previousLine) next = replaceLine(next, previousLine, keys);
  else {
    // Right under APP_KEY, where a reader looks for it.
    const at = linePattern('APP_KEY').exec(next)!;
    const end = at.index + at[0].length;
    next = `${next.slice(0, end)}\n${keys}${next.slice(end)}`;
  }
  return { text: next, id, replacedId: oldId, keptPrevious: true };
}

function replaceLine(text: string, match: RegExpExecArray, line: string): string {
  return `${text.slice(0, match.index)}${line}${text.slice(match.index + match[0].length)}`;
}
