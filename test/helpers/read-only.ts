/**
 * Real read-only folders for tests, where this OS lets a test make one: as root (which file
 * modes do not stop), a tmpfs mounted read-only in a private mount namespace of the child alone
 * (`unshare --mount`), so nothing outside that one process ever sees it and nothing is left
 * mounted; as another user, a folder with mode 0555. Where neither works, tests skip with a
 * notice, never under CI=true (the test fails instead).
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export type ReadOnlyWay = 'mount' | 'mode';

const MOUNT_READ_ONLY = 'mount -t tmpfs -o size=1m tmpfs "$0" && mount -o remount,ro "$0"';

function detect(): ReadOnlyWay | undefined {
  if (process.getuid?.() !== 0) return 'mode';
  const probe = mkdtempSync(path.join(tmpdir(), 'jobsmith-ro-probe-'));
  try {
    execFileSync(
      'unshare',
      [
        '--mount',
        '--propagation',
        'private',
        'sh',
        '-c',
        `${MOUNT_READ_ONLY} && ! touch "$0/x"`,
        probe,
      ],
      { stdio: 'ignore' },
    );
    return 'mount';
  } catch {
    return undefined;
  } finally {
    rmSync(probe, { recursive: true, force: true });
  }
}

/** How this machine makes a read-only folder, or undefined when it cannot. */
export const readOnlyWay: ReadOnlyWay | undefined = detect();

/** The error code a write in the read-only folder gets. */
export const READ_ONLY_CODE = readOnlyWay === 'mount' ? 'EROFS' : 'EACCES';
export const READ_ONLY_PROBLEM =
  readOnlyWay === 'mount' ? 'read-only file system (EROFS)' : 'permission denied (EACCES)';

/** Why the read-only tests cannot run here; undefined when they can. */
export function readOnlyUnsupported(): string | undefined {
  if (readOnlyWay) return undefined;
  const reason =
    'read-only folders: running as root without `unshare --mount` (no CAP_SYS_ADMIN?), so no real read-only folder can be made';
  if (process.env.CI === 'true') throw new Error(`CI=true, but ${reason}.`);
  console.warn(`Skipping ${reason}.`);
  return reason;
}

/**
 * The command line that runs `command` with `folder` read-only (created empty if missing): in a
 * private mount namespace with a read-only tmpfs on it, or after chmod 0555.
 */
export function readOnlyCommand(folder: string, command: string[]): string[] {
  mkdirSync(folder, { recursive: true });
  if (readOnlyWay === 'mode') {
    chmodSync(folder, 0o555);
    return command;
  }
  return [
    'unshare',
    '--mount',
    '--propagation',
    'private',
    'sh',
    '-c',
    `${MOUNT_READ_ONLY} && exec "$@"`,
    folder,
    ...command,
  ];
}
