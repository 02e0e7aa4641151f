/**
 * How the reliability suites read an app's jobs whatever its queue connection (used by
 * harness.ts): the `jobs` table with SQL, or the shared test Redis under the app's prefix.
 */
import { RedisQueue } from '../../src/queue/redis/redis-queue.js';
import { deleteRedisKeys, redisCommands, redisPrefix } from '../helpers/services.js';
import type { Backend, JobSnapshot } from './harness.js';

/** Where the app's jobs are, as the tests look at them. */
export interface QueueInspector {
  env: Record<string, string>;
  jobRows(): Promise<JobSnapshot[]>;
  insertRaw(name: string, payload: string): Promise<string>;
  close(): Promise<void>;
}

/** The database connection: the `jobs` table, read with SQL. */
export function sqlQueues(backend: Backend): QueueInspector {
  return {
    env: {},
    async jobRows() {
      const rows = await backend.query(
        `select id, attempts, reserved_at, token, available_at > ${backend.nowSql} as future from jobs order by id`,
      );
      return rows.map((r) => ({
        id: String(r.id),
        attempts: Number(r.attempts),
        held: r.reserved_at != null,
        live: r.reserved_at != null && Boolean(r.future),
        ready: !r.future,
        token: (r.token as string | null) ?? null,
      }));
    },
    async insertRaw(name, payload) {
      const [row] = await backend.query(
        'insert into jobs (queue, name, payload, priority, attempts, max_tries, available_at, created_at) ' +
          "values ('default', ?, ?, 0, 0, 3, 0, 0) returning id",
        [name, payload],
      );
      return String(row!.id);
    },
    async close() {},
  };
}

/**
 * The redis connection: the shared test Redis under a prefix of this app's own, read through
 * a RedisQueue (sizes, listings) and the lock keys (tokens). The prefix is deleted at cleanup.
 */
export function redisQueues(url: string): QueueInspector {
  const prefix = redisPrefix('jobsmith-rel').replace(/:$/, '');
  let opened: Promise<RedisQueue> | undefined;
  const driver = () =>
    (opened ??= (async () => {
      const knex = async () => {
        throw new Error('the test inspector never fails jobs');
      };
      const queue = new RedisQueue({ url, prefix, knex });
      await queue.connect();
      return queue;
    })());
  return {
    env: { QUEUE_CONNECTION: 'redis', REDIS_URL: url, REDIS_PREFIX: prefix },
    async jobRows() {
      const queue = await driver();
      const rows = [];
      for (const name of await queue.queues()) {
        for (let offset = 0; ; offset += 1000) {
          const page = await queue.list(name, undefined, offset, 1000);
          rows.push(...page);
          if (page.length < 1000) break;
        }
      }
      const locks = rows.length
        ? await redisCommands(url, [
            ['MGET', ...rows.map((r) => `${prefix}:${r.queue}:${r.id.split(':')[1]}:lock`)],
          ])
        : [[]];
      const tokens = locks[0] as Array<string | null>;
      return rows
        .map((r, i) => ({
          id: r.id,
          attempts: r.attempts,
          held: r.state === 'reserved',
          live: r.state === 'reserved',
          ready: r.state === 'pending',
          token: tokens[i] ?? null,
        }))
        .sort((a, b) => a.id.localeCompare(b.id, 'en', { numeric: true }));
    },
    async insertRaw(name, payload) {
      const queue = await driver();
      const [result] = await queue.push([
        { name, queue: 'default', payload, priority: 0, maxTries: 3, delayMs: 0 },
      ]);
      return result!.id;
    },
    async close() {
      await (await opened?.catch(() => undefined))?.close();
      await deleteRedisKeys(url, `${prefix}:`);
    },
  };
}
