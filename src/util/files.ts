import { closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/*
 * Files and folders jobsmith creates (the SQLite database and its companions, logs, and what
 * queue_manager.sh writes) are private to the user that runs it: 0600 files in 0700 folders,
 * whatever the umask. Queue payloads, stored errors and logs can hold personal data and tokens.
 * Files and folders that already exist keep their modes (an operator may have chosen them).
 */

/** Mode of the files jobsmith creates: read and write for the owner only. */
export const PRIVATE_FILE = 0o600;
/** Mode of the folders jobsmith creates. */
export const PRIVATE_FOLDER = 0o700;

/**
 * Creates `folder` and its missing parents, owner-only; nothing when it exists.
 *
 * @throws the error of the first folder that cannot be made (EROFS, EACCES...).
 */
export function makePrivateFolder(folder: string): void {
  try {
    mkdirSync(folder, { recursive: true, mode: PRIVATE_FOLDER });
  } catch (error) {
    // A recursive mkdir under a read-only or unwritable parent says ENOENT: make the missing
    // folders one at a time, and the first that fails says why.
    const missing: string[] = [];
    for (let at = resolve(folder); !existsSync(at); at = dirname(at)) {
      missing.unshift(at);
      if (dirname(at) === at) break;
    }
    for (const each of missing) mkdirSync(each, { mode: PRIVATE_FOLDER });
    throw error;
  }
}

/** Creates `file` empty and owner-only if it does not exist; an existing file is left alone. */
export function touchPrivateFile(file: string): void {
  closeSync(openSync(file, 'a', PRIVATE_FILE));
}

const PROBLEMS: Record<string, string> = {
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOENT: 'a folder on the path does not exist',
  ENOTDIR: 'a part of the path is a file, not a folder',
  // mkdir's answer when a part of the path exists as a file.
  EEXIST: 'a part of the path is a file, not a folder',
  EISDIR: 'it is a folder, not a file',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  ENAMETOOLONG: 'the path is too long',
};

/** Why a file operation failed, in words, with the code: `read-only file system (EROFS)`. */
export function fileProblem(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code && PROBLEMS[code]) return `${PROBLEMS[code]} (${code})`;
  return (error as Error | undefined)?.message ?? String(error);
}
