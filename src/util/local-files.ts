/*
 * Files a job reads from the worker's disk because its payload names them (a Telegram upload,
 * a mail attachment). Whoever can dispatch the job (app code, the dashboard, the HTTP API) names
 * the path, so a file is read only from allowed folders, after its symbolic links are followed,
 * and never when it or a folder on the way to it is hidden (`.env`, `.ssh/`): a payload cannot
 * send the app's secrets or the host's files anywhere.
 */
import { constants } from 'node:fs';
import { access, realpath, stat } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';

/** Where payload-named files may come from. */
export interface LocalFileRules {
  /** What a relative path is relative to. @defaultValue process.cwd() */
  cwd?: string;
  /** The allowed folders (relative ones from `cwd`). @defaultValue [cwd] */
  dirs?: readonly string[];
  /** The variable that lists the folders, named in the refusal (TELEGRAM_UPLOAD_DIRS...). */
  setting: string;
}

/**
 * A comma-separated folder list (TELEGRAM_UPLOAD_DIRS, MAIL_ATTACHMENT_DIRS) as an array, blanks
 * dropped; undefined when unset or empty, so the default (the working directory) applies.
 */
export function dirsOf(value: string | undefined): string[] | undefined {
  const dirs = (value ?? '')
    .split(',')
    .map((d) => d.trim())
    .filter((d) => d !== '');
  return dirs.length > 0 ? dirs : undefined;
}

/**
 * Checks the file `given` names and resolves with its absolute path, or with why it may not be
 * read: `{ problem, refused }` (refused: the rules, not the file, stop it), a clause such as "no such file" or "it is outside the folders ...", for
 * the caller's own error (the job should fail at once: a retry does not change it).
 */
export async function checkLocalFile(
  given: string,
  rules: LocalFileRules,
): Promise<
  | { full: string; problem?: undefined; refused?: undefined }
  | { full?: undefined; problem: string; refused: boolean }
> {
  const cwd = rules.cwd ?? process.cwd();
  const full = resolve(cwd, given);
  let isFile: boolean;
  try {
    isFile = (await stat(full)).isFile();
  } catch (error) {
    const code = (error as { code?: string }).code;
    return { problem: code === 'ENOENT' ? 'no such file' : `${code ?? error}`, refused: false };
  }
  if (!isFile) return { problem: 'not a regular file', refused: false };
  try {
    await access(full, constants.R_OK);
  } catch {
    return { problem: 'not readable by this process', refused: false };
  }
  const dirs = rules.dirs ?? [cwd];
  const real = await realpath(full);
  const inside: string[] = [];
  for (const dir of dirs) {
    const root = await realpath(resolve(cwd, dir)).catch(() => undefined);
    if (root === undefined) continue;
    const rel = relative(root, real);
    if (rel !== '' && rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel))
      inside.push(rel);
  }
  if (inside.length === 0)
    return {
      problem: `it is outside the folders files are read from (${dirs.join(', ')}): put it in one of them, or add its folder to ${rules.setting} (comma-separated)`,
      refused: true,
    };
  if (inside.every((rel) => rel.split(sep).some((part) => part.startsWith('.'))))
    return {
      problem: 'it is a hidden file or in a hidden folder (such as .env), which is never read',
      refused: true,
    };
  return { full };
}
