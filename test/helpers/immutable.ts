/**
 * Makes files and folders read-only for the process under test, even when the tests run as root
 * (which ignores file modes): as root with `chattr +i` (immutable: not even root may write,
 * create or delete), otherwise with chmod. Always undo it (afterEach), or the temp folder cannot
 * be removed.
 *
 * Where chattr cannot work (a file system without the flag, a container without
 * CAP_LINUX_IMMUTABLE) the test is skipped with a note, and fails under CI=true.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, statSync } from 'node:fs';
import type { TestContext } from 'vitest';
import { missingTools } from './tools.js';

const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/**
 * Makes `paths` read-only; returns the undo. Skips the test (ctx.skip) where the OS cannot.
 * @throws under CI=true when it cannot be done
 */
export function makeReadOnly(ctx: TestContext, paths: string[]): () => void {
  if (!asRoot) {
    const modes = paths.map((p) => [p, statSync(p).mode & 0o7777] as const);
    for (const [p, mode] of modes) chmodSync(p, mode & ~0o222);
    return () => modes.forEach(([p, mode]) => chmodSync(p, mode));
  }
  if (missingTools(['chattr']).length > 0) ctx.skip('chattr is not installed');
  try {
    execFileSync('chattr', ['+i', ...paths], { stdio: 'pipe' });
  } catch (error) {
    const reason = `chattr +i does not work here (${String((error as { stderr?: Buffer }).stderr ?? error).trim()}), and root ignores file modes`;
    if (process.env.CI === 'true') throw new Error(`${reason}; CI=true needs it.`);
    process.stderr.write(`\nNOTICE: ${reason}: the read-only test is skipped.\n`);
    ctx.skip(reason);
  }
  let undone = false;
  return () => {
    if (undone) return;
    undone = true;
    execFileSync('chattr', ['-i', ...paths], { stdio: 'pipe' });
  };
}
