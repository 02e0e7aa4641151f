/**
 * `run doctor` and Redis: checked whenever anything uses it (QUEUE_CONNECTION, a job's or a
 * schedule entry's connection), and failed when it answers PING but would lose or refuse jobs.
 * Servers that must be reconfigured (a read-only replica, an eviction policy) are our own.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { maskUrl } from '../src/logging/redact.js';
import { check, useDoctorApp } from './doctor.fixture.js';
import { describeRedis, redisPrefix, redisUrl } from './helpers/services.js';
import { startOwnRedis, type OwnRedis } from './helpers/own-redis.js';
import { describeWithTools } from './helpers/tools.js';

const app = useDoctorApp(() => ({
  REDIS_PREFIX: redisPrefix('jobsmith-doctor').replace(/:$/, ''),
}));

describe('run doctor: who uses Redis', () => {
  it('checks Redis when the queue uses it, with the password masked', async () => {
    app.writeConfig({ 'quick.job': {} });
    const { result, report } = await app.doctor([], {
      QUEUE_CONNECTION: 'redis',
      REDIS_URL: 'redis://:hunter2@127.0.0.1:1',
    });
    expect(result.code).toBe(1);
    expect(check(report, 'Redis')).toEqual({
      check: 'Redis',
      status: 'fail',
      detail:
        'Redis at redis://:***@127.0.0.1:1: connection refused (used by QUEUE_CONNECTION=redis)',
      fix: 'Check REDIS_URL and that the Redis server is running.',
    });
    expect(result.stdout + result.stderr).not.toContain('hunter2');
  });

  it("checks Redis when a job's connection is redis, though QUEUE_CONNECTION is not", async () => {
    app.writeConfig({ 'quick.job': {}, 'mail.send': { connection: 'redis' } });
    const { result, report } = await app.doctor([], { REDIS_URL: 'redis://127.0.0.1:1' });
    expect(result.code).toBe(1);
    expect(check(report, 'Redis')).toMatchObject({
      status: 'fail',
      detail: 'Redis at redis://127.0.0.1:1: connection refused (used by job mail.send)',
    });
  });

  it('fails, without a crash, a REDIS_URL whose database is not a number', async () => {
    app.writeConfig({ 'mail.send': { connection: 'redis' } });
    const { result, report } = await app.doctor([], { REDIS_URL: 'redis://127.0.0.1:1/abc' });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('');
    // REDIS_URL is checked when run starts: the Configuration check names the value.
    expect(check(report, 'Configuration')).toMatchObject({
      status: 'fail',
      detail: expect.stringContaining('REDIS_URL="redis://127.0.0.1:1/abc" is not valid'),
    });
  });
});

describeRedis('run doctor: a reachable Redis', () => {
  it('reports PING, a write, the version and the eviction policy', async () => {
    app.writeConfig({ 'mail.send': { connection: 'redis' } });
    const { report } = await app.doctor([], { QUEUE_CONNECTION: 'redis', REDIS_URL: redisUrl() });
    expect(check(report, 'Redis').status).toBe('ok');
    const url = maskUrl(redisUrl()).replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    expect(check(report, 'Redis').detail).toMatch(
      new RegExp(
        `^${url} answered PING in \\d+ms and takes writes; Redis \\d+\\.\\d+\\.\\d+, ` +
          'maxmemory-policy noeviction \\(used by QUEUE_CONNECTION=redis, job mail\\.send\\)$',
      ),
    );
  });
});

describeWithTools(['redis-server'], 'run doctor: a Redis that would refuse or lose jobs', () => {
  let own: OwnRedis;
  beforeAll(async () => {
    own = await startOwnRedis();
  });
  afterAll(async () => {
    await own?.stop();
  });

  it('fails a read-only replica that answers PING', async () => {
    app.writeConfig({ 'quick.job': {} });
    // A replica of a port nobody listens on: it serves reads and refuses writes.
    await own.command('REPLICAOF', '127.0.0.1', '1');
    try {
      const { result, report } = await app.doctor([], {
        QUEUE_CONNECTION: 'redis',
        REDIS_URL: own.url,
      });
      expect(result.code).toBe(1);
      expect(check(report, 'Redis')).toEqual({
        check: 'Redis',
        status: 'fail',
        detail: `${own.url} answers PING but refuses writes: READONLY You can't write against a read only replica.`,
        fix: 'Point REDIS_URL at the primary, not a read-only replica (READONLY); MISCONF means Redis cannot save to disk, OOM that maxmemory is reached.',
      });
    } finally {
      await own.command('REPLICAOF', 'NO', 'ONE');
    }
  });

  it('fails a database number the server does not have, instead of using database 0', async () => {
    app.writeConfig({ 'quick.job': {} });
    const { result, report } = await app.doctor([], {
      QUEUE_CONNECTION: 'redis',
      REDIS_URL: `${own.url}/99`,
    });
    expect(result.code).toBe(1);
    expect(check(report, 'Redis')).toEqual({
      check: 'Redis',
      status: 'fail',
      detail: `REDIS_URL ${own.url}/99 selects database 99, which the Redis server does not have; the server has 16 (0 to 15). (used by QUEUE_CONNECTION=redis)`,
      fix: 'Use a database the server has in REDIS_URL (redis://host:6379/0), or raise `databases` in redis.conf.',
    });
  });

  it('fails an eviction policy that deletes jobs when memory runs out', async () => {
    app.writeConfig({ 'quick.job': {} });
    await own.command('CONFIG', 'SET', 'maxmemory', '64mb');
    await own.command('CONFIG', 'SET', 'maxmemory-policy', 'allkeys-lru');
    const env = { QUEUE_CONNECTION: 'redis', REDIS_URL: own.url };
    const { result, report } = await app.doctor([], env);
    expect(result.code).toBe(1);
    expect(check(report, 'Redis')).toEqual({
      check: 'Redis',
      status: 'fail',
      detail: `${own.url} has maxmemory-policy allkeys-lru with maxmemory 67108864 bytes: when it is full, Redis deletes keys, jobs included`,
      fix: 'Set maxmemory-policy noeviction (in redis.conf, or CONFIG SET maxmemory-policy noeviction), as BullMQ requires.',
    });
    // The fix it gives works.
    await own.command('CONFIG', 'SET', 'maxmemory-policy', 'noeviction');
    const fixed = await app.doctor([], env);
    expect(check(fixed.report, 'Redis').status).toBe('ok');
  });
});
