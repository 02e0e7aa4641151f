/**
 * alert_states on SQLite and PostgreSQL: a change is fenced by the row's version, so of two
 * checkers (two connections, as two processes have) that read the same row, exactly one makes
 * the change, however often they race.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseEnv } from '../src/config/env.js';
import { openDatabase, type Database } from '../src/db/connection.js';
import { migrateLatest } from '../src/db/migrate.js';
import { changeState, insertMissing, readStates, recordValue } from '../src/alerts/store.js';
import { createTestDatabase, pgAvailable, tempDir } from './helpers/services.js';

const backends = [
  {
    name: 'sqlite',
    available: () => true,
    async open() {
      const dir = tempDir('jobsmith-alerts-store-');
      const env = parseEnv({ DB_CONNECTION: 'sqlite', DB_DATABASE: 'db.sqlite' });
      const a = await openDatabase(env, dir.path);
      const b = await openDatabase(env, dir.path);
      return { a, b, drop: async () => dir.cleanup() };
    },
  },
  {
    name: 'pgsql',
    available: pgAvailable,
    async open() {
      const pg = await createTestDatabase();
      const env = parseEnv({ DB_CONNECTION: 'pgsql', DATABASE_URL: pg.url });
      const a = await openDatabase(env, process.cwd());
      const b = await openDatabase(env, process.cwd());
      return { a, b, drop: () => pg.drop() };
    },
  },
];

const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);

for (const backend of backends) {
  describe.skipIf(!backend.available())(`alert_states (${backend.name})`, () => {
    let a: Database;
    let b: Database;
    let drop: () => Promise<void>;
    beforeEach(async () => {
      ({ a, b, drop } = await backend.open());
      await migrateLatest(a);
    });
    afterEach(async () => {
      await a.knex.destroy();
      await b.knex.destroy();
      await drop();
    });

    it('of two checkers that read the same row, exactly one changes it, round after round', async () => {
      await insertMissing(a.knex, ['backlog'], T0);
      await insertMissing(b.knex, ['backlog'], T0); // a second checker adds nothing
      for (let round = 0; round < 20; round++) {
        const now = T0 + round * 60_000;
        const [seenA, seenB] = await Promise.all([
          readStates(a.knex, ['backlog']),
          readStates(b.knex, ['backlog']),
        ]);
        const row = seenA.get('backlog')!;
        expect(seenB.get('backlog')).toEqual(row);
        const to = row.state === 'firing' ? 'ok' : 'firing';
        const won = await Promise.all([
          changeState(a.knex, row, { state: to, lastNotifiedAt: now, notice: 'firing' }, now),
          changeState(b.knex, seenB.get('backlog')!, { state: to, lastNotifiedAt: now }, now),
        ]);
        expect(won.filter((w) => w !== undefined)).toHaveLength(1);
        // The loser's value write is fenced too: it does not land on the winner's row.
        await recordValue(b.knex, row, -1, now);
        const stored = (await readStates(a.knex, ['backlog'])).get('backlog')!;
        expect(stored).toEqual(won.find((w) => w !== undefined));
        expect(stored.version).toBe(round + 1);
        expect(stored.lastValue).toBeNull();
      }
    });

    it('keeps times past 2^31 and fractional values as given', async () => {
      await insertMissing(a.knex, ['gpt'], T0);
      const row = (await readStates(a.knex, ['gpt'])).get('gpt')!;
      const changed = await changeState(
        a.knex,
        row,
        { state: 'pending', pendingSince: T0, lastValue: 0.2375 },
        T0 + 1,
      );
      expect((await readStates(b.knex)).get('gpt')).toEqual(changed);
      expect(changed).toMatchObject({ pendingSince: T0, lastValue: 0.2375, updatedAt: T0 + 1 });
    });
  });
}
