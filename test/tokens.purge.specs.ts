/**
 * `run purge:tokens` in process, on a real token table: 10,000 tokens, half expired. Run by a
 * .sqlite and a .pg file; each gives a fresh database and the SQL type of `expires_at`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../src/db/connection.js';
import { purgeExpiredTokens } from '../src/tokens/purge.js';
import { tokenSettings, type TokenSettings } from '../src/tokens/settings.js';

export const TOKENS = 10_000;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/**
 * When each token expires, relative to now, by id: a quarter 3 days ago, a quarter 1 hour ago,
 * a quarter in 1 hour, a quarter in 3 days (plus a few seconds per id, so no two are equal).
 */
export function offsetOf(id: number): number {
  const spread = (id % 1000) * 1000;
  return [-3 * DAY - spread, -HOUR - spread, HOUR + spread, 3 * DAY + spread][id % 4]!;
}

export interface TokenBackend {
  name: string;
  /** `describe`, or one that skips when the server is down. @defaultValue describe */
  suite?: (name: string, fn: () => void) => void;
  /** A fresh database; closed and dropped by `cleanup`. */
  open(): Promise<{ db: Database; cleanup(): Promise<void> }>;
  /**
   * (Re)creates `table` with the TOKENS tokens: `id` primary key (unless noKey), `token`, and
   * `column` holding each token's expiry as `write` gives it.
   */
  fill(
    db: Database,
    table: string,
    options?: {
      column?: string;
      type?: string;
      noKey?: boolean;
      write?: (ms: number, id: number) => unknown;
    },
  ): Promise<void>;
}

export async function remainingIds(db: Database, table: string): Promise<number[]> {
  const rows: Array<{ id: number | string }> = await db.knex(table).select('id').orderBy('id');
  return rows.map((r) => Number(r.id));
}

export const idsWhere = (keep: (offset: number) => boolean): number[] =>
  Array.from({ length: TOKENS }, (_, i) => i + 1).filter((id) => keep(offsetOf(id)));

export function tokenSpecs(backend: TokenBackend): void {
  (backend.suite ?? describe)(`purgeExpiredTokens (${backend.name})`, () => {
    let db: Database;
    let cleanup: () => Promise<void>;
    const settings: TokenSettings = tokenSettings(undefined);
    beforeAll(async () => {
      ({ db, cleanup } = await backend.open());
    });
    afterAll(async () => cleanup?.());

    it('deletes exactly the expired tokens, in batches of 1000, and keeps the others', async () => {
      await backend.fill(db, 'refresh_tokens');
      const result = await purgeExpiredTokens(db, settings);
      expect(result).toMatchObject({
        table: 'refresh_tokens',
        expiresAt: 'expires_at',
        database: db.describe,
        olderThanMs: 0,
        dryRun: false,
        expired: 5000,
        deleted: 5000,
        batches: 5,
      });
      expect(Math.abs(result.cutoff.getTime() - Date.now())).toBeLessThan(60_000);
      expect(await remainingIds(db, 'refresh_tokens')).toEqual(idsWhere((o) => o > 0));
      // Nothing is left to go.
      expect((await purgeExpiredTokens(db, settings)).deleted).toBe(0);
    });

    it('with --older-than deletes only the tokens expired for longer than the grace', async () => {
      await backend.fill(db, 'refresh_tokens');
      const result = await purgeExpiredTokens(db, settings, { olderThanMs: DAY });
      expect(result).toMatchObject({ expired: 2500, deleted: 2500, olderThanMs: DAY });
      expect(await remainingIds(db, 'refresh_tokens')).toEqual(idsWhere((o) => o > -DAY));
    });

    it('with --dry-run counts the expired tokens and deletes nothing', async () => {
      await backend.fill(db, 'refresh_tokens');
      const result = await purgeExpiredTokens(db, settings, { dryRun: true });
      expect(result).toMatchObject({ dryRun: true, expired: 5000, deleted: 0, batches: 0 });
      expect(await remainingIds(db, 'refresh_tokens')).toHaveLength(TOKENS);
    });

    it('with --batch 100 still deletes every expired token, 100 at a time', async () => {
      await backend.fill(db, 'refresh_tokens');
      const progress: number[] = [];
      const result = await purgeExpiredTokens(db, settings, {
        batch: 100,
        onBatch: (n) => progress.push(n),
      });
      expect(result).toMatchObject({ deleted: 5000, batches: 50 });
      expect(progress).toEqual(Array.from({ length: 50 }, (_, i) => (i + 1) * 100));
      expect(await remainingIds(db, 'refresh_tokens')).toEqual(idsWhere((o) => o > 0));
    });

    it('names tokens.table when the table does not exist, and deletes nothing', async () => {
      await expect(
        purgeExpiredTokens(db, { ...settings, table: 'user_tokens' }),
      ).rejects.toMatchObject({
        name: 'ConfigError',
        exitCode: 1,
        message: `tokens.table: table user_tokens does not exist in ${db.describe}.`,
        hint: 'Set tokens.table in jobsmith.config.ts to the table of your refresh tokens (and tokens.connection when it is in another database).',
      });
    });

    it('refuses a tokens.expiresAt column whose values read as times before 2000 (an id), and deletes nothing', async () => {
      await backend.fill(db, 'refresh_tokens');
      await expect(purgeExpiredTokens(db, { ...settings, expiresAt: 'id' })).rejects.toMatchObject({
        name: 'ConfigError',
        message: `tokens.expiresAt: in 10000 row(s) of refresh_tokens in ${db.describe}, column id reads as a time before 2000-01-01 (numbers are read as unix seconds, or milliseconds from 1e11 on), so id does not look like when tokens expire; nothing was deleted.`,
      });
      expect(await remainingIds(db, 'refresh_tokens')).toHaveLength(TOKENS);
    });

    it('names tokens.expiresAt when the column does not exist', async () => {
      await backend.fill(db, 'refresh_tokens');
      await expect(
        purgeExpiredTokens(db, { ...settings, expiresAt: 'valid_until' }),
      ).rejects.toMatchObject({
        name: 'ConfigError',
        message: `tokens.expiresAt: column valid_until does not exist in table refresh_tokens of ${db.describe} (its columns: id, token, expires_at).`,
        hint: 'Set tokens.expiresAt in jobsmith.config.ts to the column that holds when a token expires.',
      });
      expect(await remainingIds(db, 'refresh_tokens')).toHaveLength(TOKENS);
    });
  });
}
