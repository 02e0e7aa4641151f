/*
 * Where a sign-in stopped half-way waits for the next run of `run telegram:login` (no terminal:
 * the first run sends the code, the second brings it with --code). A JSON file in the working
 * folder, owner-only, removed once the sign-in ends: it holds a half-made session, whose auth
 * key becomes a signed-in session the moment the code (and password) are accepted.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { JobsmithError } from '../errors.js';
import { fileProblem, makePrivateFolder, PRIVATE_FILE } from '../util/files.js';
import type { PendingLogin, PendingStore } from './login.js';

/** The file, relative to the working folder. */
export const PENDING_FILE = 'storage/telegram-login.json';

/** A pending sign-in older than this is ignored (Telegram's codes live minutes, not hours), ms. */
export const PENDING_MAX_AGE_MS = 60 * 60 * 1000;

/** The PendingStore in `<cwd>/storage/telegram-login.json`. */
export function pendingFile(cwd: string, now: () => number = Date.now): PendingStore {
  const file = resolve(cwd, PENDING_FILE);
  return {
    read() {
      let parsed: Partial<PendingLogin>;
      try {
        parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<PendingLogin>;
      } catch {
        // None, or not ours to read: a new sign-in starts (and replaces it).
        return undefined;
      }
      const ok =
        typeof parsed.phone === 'string' &&
        (parsed.stage === 'code' || parsed.stage === 'password') &&
        typeof parsed.phoneCodeHash === 'string' &&
        typeof parsed.session === 'string' &&
        typeof parsed.sentAt === 'number' &&
        now() - parsed.sentAt < PENDING_MAX_AGE_MS;
      return ok ? ({ viaApp: false, ...parsed } as PendingLogin) : undefined;
    },
    write(pending) {
      try {
        makePrivateFolder(dirname(file));
        writeFileSync(file, `${JSON.stringify(pending)}\n`, { mode: PRIVATE_FILE });
      } catch (error) {
        throw new JobsmithError(
          `Cannot keep the sign-in for the next run in ${file}: ${fileProblem(error)}.`,
          { hint: 'Run telegram:login on a terminal (it asks instead), or fix the folder.' },
        );
      }
    },
    clear() {
      rmSync(file, { force: true });
    },
  };
}
