/**
 * Reliability (SQLite only): `run queue:work` on a file it cannot use stops at once with exit
 * 14 and a message that names the file and the fix, instead of logging "Error during claim"
 * every 5 s for ever; a file deleted or replaced under a running worker is noticed within about
 * a second, instead of the worker going on with the old file while new jobs go to the new one.
 */
import { copyFileSync, renameSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { corruptTable, makeReadOnly } from '../helpers/sqlite-damage.js';
import { createApp, migrate, type TestApp } from './harness.js';

describe('reliability: queue:work on an SQLite file it cannot use (SQLite)', () => {
  let app: TestApp;
  let file: string;
  const undo: Array<() => void> = [];
  beforeEach(async () => {
    app = await createApp('sqlite');
    file = path.join(app.dir, 'database.sqlite');
    await migrate(app);
    await app.dispatch('sleep', [{ ms: 10 }]);
    await app.backend.close(); // the test's own connection must not keep the old file
  });
  afterEach(async () => {
    for (const u of undo.splice(0)) u();
    await app?.cleanup();
  });

  it('a read-only file: --stop-when-empty exits 14 at once, naming the file and the fix', async () => {
    undo.push(makeReadOnly(file).undo);
    const result = await app.run(['queue:work', '--stop-when-empty']);
    expect(result.code, result.stderr).toBe(14);
    expect(result.stderr).toBe(
      `Error: The SQLite database ${file} is read-only: attempt to write a readonly database.\n` +
        'Make the file, its -wal and -shm files and its folder writable by the user that runs this process, or point DB_DATABASE at a writable file.\n',
    );
    expect(result.stdout).toContain('Worker stopped (storage) after 0 job(s); exit 14.\n');
    expect(result.stdout).not.toContain('Error during claim');
  });

  it('a file with a corrupt table: --stop-when-empty exits 14 at once', async () => {
    corruptTable(file, 'jobs');
    const result = await app.run(['queue:work', '--stop-when-empty']);
    expect(result.code, result.stderr).toBe(14);
    expect(result.stderr).toBe(
      `Error: The SQLite database ${file} is corrupt: database disk image is malformed.\n` +
        'Restore it from a backup; `sqlite3 FILE "pragma integrity_check"` shows the damage.\n',
    );
  });

  it('a database whose tables are gone: exits 14 at start, saying to migrate', async () => {
    const BetterSqlite3 = (await import('better-sqlite3')).default;
    const db = new BetterSqlite3(file);
    db.exec('drop table jobs');
    db.close();
    const result = await app.run(['queue:work', '--stop-when-empty']);
    expect(result.code, result.stderr).toBe(14);
    expect(result.stderr).toBe(
      `Error: The SQLite database ${file} has no jobsmith schema (or an old one): no such table: jobs.\n` +
        'Run `run migrate` on it, or check that DB_DATABASE names the right file.\n',
    );
  });

  it('the file replaced under a running worker: it exits 14 within about a second', async () => {
    const w = app.worker(['--sleep', '5s']);
    await w.waitForEvents((e) => e.event === 'job:processed', 1, 15_000);
    renameSync(file, `${file}.old`);
    copyFileSync(`${file}.old`, file);
    const replacedAt = Date.now();
    const result = await w.exited;
    expect(result.code, result.stderr).toBe(14);
    // Once a second while idle, whatever --sleep says; slack for a loaded machine.
    expect(Date.now() - replacedAt).toBeLessThan(5_000);
    expect(w.eventsOf('worker:stopping')).toEqual([
      expect.objectContaining({
        reason: 'storage',
        error: `The SQLite database ${file} was replaced by another file while this process had it open.`,
      }),
    ]);
  });

  it('the file deleted under a running worker: it exits 14', async () => {
    const w = app.worker(['--sleep', '5s']);
    await w.waitForEvents((e) => e.event === 'job:processed', 1, 15_000);
    renameSync(file, `${file}.gone`);
    const result = await w.exited;
    expect(result.code, result.stderr).toBe(14);
    expect(w.eventsOf('worker:stopping')[0]).toMatchObject({
      reason: 'storage',
      error: `The SQLite database ${file} was deleted while this process had it open.`,
    });
  });
});
