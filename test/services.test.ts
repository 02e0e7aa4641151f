import pg from 'pg';
import { describe, expect, it } from 'vitest';
import {
  createTestDatabase,
  describePg,
  describeRedis,
  pgAdminUrl,
  redisCommands,
  redisPrefix,
  redisUrl,
  tempDir,
} from './helpers/services.js';
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';

async function databaseExists(name: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: pgAdminUrl() });
  await client.connect();
  try {
    const res = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    return res.rowCount === 1;
  } finally {
    await client.end();
  }
}

describePg('PostgreSQL test databases', () => {
  it('creates a fresh database and drops it again', async () => {
    const db = await createTestDatabase();
    let dropped = false;
    try {
      expect(db.name).toMatch(/^jobsmith_test_[0-9a-f]+$/);
      expect(await databaseExists(db.name)).toBe(true);

      // The returned URL points at the new database, and open connections do not block drop().
      const client = new pg.Client({ connectionString: db.url });
      client.on('error', () => {});
      await client.connect();
      const res = await client.query<{ db: string }>('SELECT current_database() AS db');
      expect(res.rows[0]?.db).toBe(db.name);

      await db.drop();
      dropped = true;
      expect(await databaseExists(db.name)).toBe(false);
      await client.end().catch(() => {});
    } finally {
      if (!dropped) await db.drop();
    }
  });
});

describeRedis('Redis', () => {
  it('answers PING with PONG', async () => {
    const [reply] = await redisCommands(redisUrl(), [['PING']]);
    expect(reply).toBe('PONG');
  });

  it('round-trips a key under a unique prefix', async () => {
    const key = `${redisPrefix()}smoke`;
    expect(key).not.toBe(`${redisPrefix()}smoke`);
    const replies = await redisCommands(redisUrl(), [
      ['SET', key, 'hello', 'PX', '10000'],
      ['GET', key],
      ['DEL', key],
      ['EXISTS', key],
    ]);
    expect(replies).toEqual(['OK', 'hello', 1, 0]);
  });
});

describe('tempDir', () => {
  it('creates a directory and removes it on cleanup', () => {
    const dir = tempDir('jobsmith-smoke-');
    writeFileSync(path.join(dir.path, 'file.txt'), 'x');
    expect(existsSync(path.join(dir.path, 'file.txt'))).toBe(true);
    dir.cleanup();
    expect(existsSync(dir.path)).toBe(false);
  });
});
