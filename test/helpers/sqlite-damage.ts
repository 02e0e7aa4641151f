/**
 * Ways to break an SQLite file the way users meet it: read-only, corrupt pages, not a database.
 *
 * Read-only as root: root writes any file whatever its mode, so the file is made immutable
 * (`chattr +i`, which root obeys); SQLite then opens it read-only, as it does a file of another
 * user. As anyone else: mode 0444. `undo` gives the file back (the temp dir must be removable).
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, closeSync, openSync, writeSync } from 'node:fs';
import BetterSqlite3 from 'better-sqlite3';

export function makeReadOnly(file: string): { undo(): void } {
  if (process.getuid?.() !== 0) {
    chmodSync(file, 0o444);
    return { undo: () => chmodSync(file, 0o644) };
  }
  try {
    execFileSync('chattr', ['+i', file], { stdio: 'pipe' });
  } catch (error) {
    throw new Error(
      `Cannot make ${file} read-only for root: chattr +i failed (${(error as Error).message}). ` +
        'The test needs a filesystem with immutable files (ext4, xfs) and CAP_LINUX_IMMUTABLE.',
      { cause: error },
    );
  }
  return { undo: () => execFileSync('chattr', ['-i', file], { stdio: 'pipe' }) };
}

/** Overwrites the root page of `table` with garbage (WAL checkpointed first): reads of it fail. */
export function corruptTable(file: string, table: string): void {
  const db = new BetterSqlite3(file);
  db.pragma('wal_checkpoint(TRUNCATE)');
  const pageSize = db.pragma('page_size', { simple: true }) as number;
  const root = db.prepare('select rootpage from sqlite_master where name = ?').pluck().get(table);
  db.close();
  const fd = openSync(file, 'r+');
  try {
    writeSync(fd, Buffer.alloc(pageSize, 0xab), 0, pageSize, (Number(root) - 1) * pageSize);
  } finally {
    closeSync(fd);
  }
}
