import { afterAll, beforeAll, expect, it } from 'vitest';
import { parseEnv } from '../src/config/env.js';
import { openDatabase, type Database } from '../src/db/connection.js';
import { purgeExpiredTokens } from '../src/tokens/purge.js';
import { tokenSettings } from '../src/tokens/settings.js';
import { createTestDatabase, describePg } from './helpers/services.js';
import {
  TOKENS,
  idsWhere,
  offsetOf,
  remainingIds,
  tokenSpecs,
  type TokenBackend,
} from './tokens.purge.specs.js';

const pgTokens: TokenBackend = {
  name: 'pgsql',
  suite: describePg,
  async open() {
    const pg = await createTestDatabase();
    // Sessions in UTC+14, so a timestamp without time zone read in the session's zone fails.
    const url = `${pg.url}?options=${encodeURIComponent('-c TimeZone=Pacific/Kiritimati')}`;
    const db = await openDatabase(parseEnv({ DB_CONNECTION: 'pgsql', DATABASE_URL: url }), '/');
    return {
      db,
      async cleanup() {
        await db.knex.destroy();
        await pg.drop();
      },
    };
  },
  async fill(db, table, { column = 'expires_at', type = 'timestamptz', noKey, write } = {}) {
    await db.knex.schema.dropTableIfExists(table);
    const key = noKey ? 'id bigint' : 'id bigint primary key';
    await db.knex.raw(`create table ${table} (${key}, token text not null, ${column} ${type})`);
    const now = Date.now();
    const rows = Array.from({ length: TOKENS }, (_, i) => ({
      id: i + 1,
      token: `t${i + 1}`,
      [column]: (write ?? ((ms: number) => new Date(ms)))(now + offsetOf(i + 1), i + 1),
    }));
    await db.knex.batchInsert(table, rows, 2000);
  },
};

tokenSpecs(pgTokens);

describePg('purgeExpiredTokens on PostgreSQL column types', () => {
  let db: Database;
  let cleanup: () => Promise<void>;
  const settings = tokenSettings(undefined);
  beforeAll(async () => ({ db, cleanup } = await pgTokens.open()));
  afterAll(async () => cleanup?.());

  it('reads unix milliseconds in a table without a primary key (by ctid), 700 at a time', async () => {
    await pgTokens.fill(db, 'ms_tokens', { type: 'bigint', noKey: true, write: (ms) => ms });
    const result = await purgeExpiredTokens(
      db,
      { ...settings, table: 'ms_tokens' },
      { batch: 700 },
    );
    expect(result).toMatchObject({ deleted: 5000, batches: 8 });
    expect(await remainingIds(db, 'ms_tokens')).toEqual(idsWhere((o) => o > 0));
  });

  it('reads unix seconds in an integer column', async () => {
    await pgTokens.fill(db, 's_tokens', { type: 'integer', write: (ms) => Math.floor(ms / 1000) });
    const result = await purgeExpiredTokens(
      db,
      { ...settings, table: 's_tokens' },
      { olderThanMs: 86_400_000 },
    );
    expect(result.deleted).toBe(2500);
    expect(await remainingIds(db, 's_tokens')).toEqual(idsWhere((o) => o > -86_400_000));
  });

  it('reads a timestamp without time zone as UTC, in another schema', async () => {
    await db.knex.raw('create schema auth');
    await pgTokens.fill(db, 'auth.tokens', {
      type: 'timestamp',
      write: (ms) => new Date(ms).toISOString().replace('Z', ''),
    });
    const { rows } = await db.knex.raw('show timezone');
    expect(rows).toEqual([{ TimeZone: 'Pacific/Kiritimati' }]);
    const result = await purgeExpiredTokens(db, { ...settings, table: 'auth.tokens' });
    expect(result.deleted).toBe(5000);
    expect(await remainingIds(db, 'auth.tokens')).toEqual(idsWhere((o) => o > 0));
  });

  it('refuses a column it cannot read as a time', async () => {
    await pgTokens.fill(db, 'text_tokens', {
      type: 'text',
      write: (ms) => new Date(ms).toISOString(),
    });
    await expect(purgeExpiredTokens(db, { ...settings, table: 'text_tokens' })).rejects.toThrow(
      `tokens.expiresAt: column expires_at of text_tokens in ${db.describe} is text; purge:tokens reads timestamptz, timestamp, date, or a number of unix seconds or milliseconds.`,
    );
  });

  it('says how many tokens went when a batch fails midway; those stay deleted', async () => {
    await pgTokens.fill(db, 'guarded_tokens');
    // The app's own rule refuses to delete one expired token (id 4001, expired an hour ago).
    await db.knex.raw(`
      create function keep_4001() returns trigger language plpgsql as $$
      begin
        if old.id = 4001 then raise exception 'token 4001 is protected'; end if;
        return old;
      end $$`);
    await db.knex.raw(
      'create trigger keep_4001 before delete on guarded_tokens for each row execute function keep_4001()',
    );
    const error: Error & { hint?: string } = await purgeExpiredTokens(
      db,
      { ...settings, table: 'guarded_tokens' },
      { batch: 100 },
    ).then(
      () => new Error('the purge succeeded'),
      (e: unknown) => e as Error,
    );
    const match = new RegExp(
      `^Purging guarded_tokens in ${db.describe.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} stopped after deleting (\\d+) of 5000 expired tokens: .*token 4001 is protected$`,
    ).exec(error.message);
    expect(match, error.message).not.toBeNull();
    expect(error.hint).toBe(
      'Fix the cause and run it again: deleted tokens stay deleted, the others go then.',
    );
    const deleted = Number(match![1]);
    expect(deleted % 100).toBe(0);
    expect(await remainingIds(db, 'guarded_tokens')).toHaveLength(TOKENS - deleted);
  });
});
