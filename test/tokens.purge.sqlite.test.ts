import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEnv } from '../src/config/env.js';
import { openDatabase, type Database } from '../src/db/connection.js';
import { purgeExpiredTokens } from '../src/tokens/purge.js';
import { tokenSettings } from '../src/tokens/settings.js';
import { tempDir } from './helpers/services.js';
import {
  TOKENS,
  idsWhere,
  offsetOf,
  remainingIds,
  tokenSpecs,
  type TokenBackend,
} from './tokens.purge.specs.js';

/** The ways apps write a time into SQLite, taken in turn: both ISO 8601 forms, unix s and ms. */
function written(ms: number, id: number): string | number {
  const iso = new Date(ms).toISOString();
  switch (Math.floor(id / 4) % 4) {
    case 0:
      return iso.replace('T', ' ').replace(/\.\d+Z$/, '');
    case 1:
      return iso;
    case 2:
      return Math.floor(ms / 1000);
    default:
      return ms;
  }
}

export const sqliteTokens: TokenBackend = {
  name: 'sqlite',
  async open() {
    const dir = tempDir('jobsmith-tokens-');
    const db = await openDatabase(
      parseEnv({ DB_CONNECTION: 'sqlite', DB_DATABASE: path.join(dir.path, 'app.sqlite') }),
      dir.path,
    );
    return {
      db,
      async cleanup() {
        await db.knex.destroy();
        dir.cleanup();
      },
    };
  },
  async fill(db, table, { column = 'expires_at', type = 'datetime', noKey, write = written } = {}) {
    await db.knex.schema.dropTableIfExists(table);
    const key = noKey ? 'id integer' : 'id integer primary key';
    await db.knex.raw(`create table ${table} (${key}, token text not null, ${column} ${type})`);
    const now = Date.now();
    const rows = Array.from({ length: TOKENS }, (_, i) => ({
      id: i + 1,
      token: `t${i + 1}`,
      [column]: write(now + offsetOf(i + 1), i + 1),
    }));
    await db.knex.batchInsert(table, rows, 300);
  },
};

tokenSpecs(sqliteTokens);

describe('purgeExpiredTokens on SQLite values', () => {
  let db: Database;
  let cleanup: () => Promise<void>;
  beforeAll(async () => ({ db, cleanup } = await sqliteTokens.open()));
  afterAll(async () => cleanup?.());

  it('keeps tokens whose expiry is empty or not a time, in a TEXT column', async () => {
    await sqliteTokens.fill(db, 'tokens', {
      type: 'text',
      write: (ms, id) => (id % 100 === 0 ? (id % 200 === 0 ? null : 'never') : written(ms, id)),
    });
    const result = await purgeExpiredTokens(db, { ...tokenSettings(undefined), table: 'tokens' });
    const odd = (id: number) => id % 100 === 0;
    const kept = idsWhere((o) => o > 0);
    const expected = [
      ...new Set([...kept, ...Array.from({ length: TOKENS }, (_, i) => i + 1).filter(odd)]),
    ].sort((a, b) => a - b);
    expect(await remainingIds(db, 'tokens')).toEqual(expected);
    expect(result.deleted).toBe(TOKENS - expected.length);
  });

  it('refuses a view', async () => {
    await db.knex.raw('create view token_view as select 1 as expires_at');
    await expect(
      purgeExpiredTokens(db, { ...tokenSettings(undefined), table: 'token_view' }),
    ).rejects.toThrow(`tokens.table: table token_view is a view, not a table, in ${db.describe}.`);
  });
});
