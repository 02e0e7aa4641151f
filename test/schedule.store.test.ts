import { hostname } from 'node:os';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseEnv } from '../src/config/env.js';
import { openDatabase, type Database } from '../src/db/connection.js';
import { migrateLatest } from '../src/db/migrate.js';
import {
  acquireLease,
  claimSlot,
  finishSlot,
  lastSlots,
  pruneSlots,
  renewLease,
} from '../src/schedule/store.js';
import { createTestDatabase, pgAvailable, tempDir } from './helpers/services.js';

/*
 * The scheduler's storage takes what the scheduler computes: times from a clock offset that may
 * end in .5 (issue 11, item 8: "invalid input syntax for type bigint: 1795416412895.5" on
 * PostgreSQL, every minute), host names of any length, and details of any text.
 */
const backends = [
  {
    name: 'sqlite',
    available: () => true,
    async open() {
      const dir = tempDir('jobsmith-schedule-store-');
      const db = await openDatabase(
        parseEnv({ DB_CONNECTION: 'sqlite', DB_DATABASE: 'db.sqlite' }),
        dir.path,
      );
      return { db, drop: async () => dir.cleanup() };
    },
  },
  {
    name: 'pgsql',
    available: pgAvailable,
    async open() {
      const pg = await createTestDatabase();
      const db = await openDatabase(
        parseEnv({ DB_CONNECTION: 'pgsql', DATABASE_URL: pg.url }),
        process.cwd(),
      );
      return { db, drop: () => pg.drop() };
    },
  },
];

for (const b of backends) {
  describe.skipIf(!b.available())(`schedule storage (${b.name})`, () => {
    let db: Database;
    let drop: () => Promise<void>;
    beforeEach(async () => {
      ({ db, drop } = await b.open());
      await migrateLatest(db);
    });
    afterEach(async () => {
      await db.knex.destroy();
      await drop();
    });

    it('prunes with a fractional cut-off time', async () => {
      const key = { entry: 'tick', slotAt: 1_000_000_000_000, scope: '*' };
      expect(await claimSlot(db, key, 'h:1')).toBe(true);
      expect(await pruneSlots(db, 1_795_416_412_895.5)).toBe(1);
    });

    it('claims and finishes a slot whose time is fractional', async () => {
      const key = { entry: 'tick', slotAt: 1_795_416_360_000.5, scope: '*' };
      expect(await claimSlot(db, key, 'h:1')).toBe(true);
      expect(await claimSlot(db, key, 'h:2')).toBe(false);
      await finishSlot(db, key, 'ok', 'dispatched');
      const slot = (await lastSlots(db)).get('tick');
      expect(slot).toMatchObject({ outcome: 'ok', detail: 'dispatched' });
      expect(Number.isInteger(slot!.slotAt)).toBe(true);
    });

    it('takes and renews an overlap lease of fractional milliseconds', async () => {
      expect(await acquireLease(db, 'hold', 'h:1', 'token-1', 2_000.5)).toBe(true);
      expect(await renewLease(db, 'hold', 'token-1', 1_500.25)).toBe(true);
    });

    it('keeps one slot per host for a host name longer than its column', async () => {
      const host = `${hostname()}-${'h'.repeat(300)}`;
      const key = { entry: 'per-host', slotAt: 1_795_416_360_000, scope: host };
      expect(await claimSlot(db, key, `${host}:1`)).toBe(true);
      expect(await claimSlot(db, key, `${host}:2`)).toBe(false);
      const other = { ...key, scope: `${host}-2` };
      expect(await claimSlot(db, other, `${host}:3`)).toBe(true);
      await finishSlot(db, key, 'ok', 'done');
      const rows = await db.knex('schedule_slots').where({ outcome: 'ok' });
      expect(rows).toHaveLength(1);
    });

    it('records a detail with NUL, secrets and 1 MB of text, readable and bounded', async () => {
      const key = { entry: 'tick', slotAt: 1_795_416_360_000, scope: '*' };
      await claimSlot(db, key, 'h:1');
      const detail = `dispatch failed: bad\u0000byte at redis://:p@ssw0rd@cache ${'x'.repeat(1_000_000)}`;
      await finishSlot(db, key, 'failed', detail);
      const stored = (await lastSlots(db)).get('tick')!.detail!;
      expect(stored).toMatch(
        /^dispatch failed: bad\\u0000byte at redis:\/\/:\*\*\*@cache x+…\[\d{3},\d{3} characters cut\]$/,
      );
      expect(stored.length).toBeLessThanOrEqual(2_000);
    });
  });
}
