/*
 * `run telegram:login --write-env [FILE]`: TELEGRAM_SESSION=... written into a .env file, every
 * other line kept as it was. A file that ends its lines with CRLF keeps CRLF; a new file is
 * created owner-only (it holds a secret).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { JobsmithError } from '../errors.js';
import { fileProblem, PRIVATE_FILE } from '../util/files.js';

const NAME = 'TELEGRAM_SESSION';

/** `NAME=...` on a line of its own, `export NAME=...` too (as dotenv reads them). */
const LINE = new RegExp(`^[ \\t]*(?:export[ \\t]+)?${NAME}[ \\t]*=.*$`, 'gm');

/**
 * `text` (undefined: no file yet) with TELEGRAM_SESSION set to `session`: every line that sets
 * it replaced (dotenv would take the last, so none may keep an old value), else one line
 * appended, with the file's own line ending.
 */
export function withSession(text: string | undefined, session: string): string {
  const current = text ?? '';
  const line = `${NAME}=${session}`;
  // A fresh RegExp for the test: a global one keeps lastIndex between calls.
  if (new RegExp(LINE.source, 'm').test(current)) return current.replace(LINE, line);
  const eol = current.includes('\r\n') ? '\r\n' : '\n';
  const sep = current === '' || current.endsWith('\n') ? '' : eol;
  return `${current}${sep}${line}${eol}`;
}

/**
 * Writes TELEGRAM_SESSION into `file` (created owner-only when missing; an existing file keeps
 * its mode). Returns whether the file was created.
 *
 * @throws JobsmithError naming the file and the problem (read-only, a folder...), with the fix.
 */
export function writeSessionToEnv(file: string, session: string): { created: boolean } {
  const created = !existsSync(file);
  try {
    const before = created ? undefined : readFileSync(file, 'utf8');
    writeFileSync(file, withSession(before, session), { mode: PRIVATE_FILE });
  } catch (error) {
    throw new JobsmithError(
      `Cannot write TELEGRAM_SESSION to ${file}: ${fileProblem(error)}. The sign-in itself worked: the session is printed on stdout instead.`,
      { hint: 'Put the printed line in .env yourself, or fix the file.' },
    );
  }
  return { created };
}
