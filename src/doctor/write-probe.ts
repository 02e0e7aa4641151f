import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync, statSync, unlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';

/*
 * Write tests on the file system. `access(W_OK)` looks at permissions only: a full disk or
 * quota shows when something is written, and the check must say what the workers will meet,
 * so we write.
 */

/** The folder itself if it exists, else its nearest existing parent (where mkdir -p starts). */
export function nearestExisting(folder: string): string {
  let existing = folder;
  while (!existsSync(existing) && dirname(existing) !== existing) existing = dirname(existing);
  return existing;
}

/** Why a write failed, in a few words: `read-only file system (EROFS)`. */
export function writeFailure(error: unknown): string {
  const err = error as NodeJS.ErrnoException;
  const words: Record<string, string> = {
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    EROFS: 'read-only file system',
    ENOSPC: 'no space left on device',
    EDQUOT: 'disk quota exceeded',
    ENOTDIR: 'not a folder',
  };
  return err.code && words[err.code] ? `${words[err.code]} (${err.code})` : err.message;
}

/**
 * Creates and removes a file in `folder` (which must exist).
 * @throws the file system error when that is not possible
 */
export function probeFolder(folder: string): void {
  if (!statSync(folder).isDirectory()) {
    throw Object.assign(new Error(`${folder} is not a folder`), { code: 'ENOTDIR' });
  }
  const probe = join(folder, `.jobsmith-doctor-${process.pid}-${randomBytes(4).toString('hex')}`);
  closeSync(openSync(probe, 'wx', 0o600));
  unlinkSync(probe);
}

/**
 * Opens an existing file for appending and closes it again: its content is not changed.
 * @throws the file system error when the file cannot be written
 */
export function probeFile(file: string): void {
  closeSync(openSync(file, 'a'));
}
