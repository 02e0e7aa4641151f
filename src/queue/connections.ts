import { resolve } from 'node:path';
import type { Env } from '../config/env.js';
import type { Database } from '../db/connection.js';
import { ConfigError } from '../errors.js';
import type { JobRegistry } from '../jobs/registry.js';
import type { RateLimitRule } from '../flow/rate-limits/store.js';
import type { QueueDriver } from './driver.js';

export const CONNECTIONS = ['database', 'redis', 'sync'] as const;
export type ConnectionName = (typeof CONNECTIONS)[number];

export interface ConnectionDeps {
  env: Env;
  cwd: string;
  /** The SQL storage (migrated): jobs for `database`, failed jobs for all. */
  db: () => Promise<Database>;
  registry: () => Promise<JobRegistry>;
  /** The config's rate limits, checked: the sync driver runs jobs, so it applies them. */
  rateLimits: () => Promise<ReadonlyMap<string, RateLimitRule>>;
}

/**
 * Opens queue drivers by connection name, once each, and closes them together. Driver modules
 * load only when their connection is used.
 */
export class QueueConnections {
  private readonly open = new Map<string, Promise<QueueDriver>>();

  constructor(private readonly deps: ConnectionDeps) {}

  get defaultName(): ConnectionName {
    return this.deps.env.QUEUE_CONNECTION;
  }

  get(name: string = this.defaultName): Promise<QueueDriver> {
    if (!(CONNECTIONS as readonly string[]).includes(name)) {
      return Promise.reject(
        new ConfigError(
          `Unknown queue connection "${name}"; use one of: ${CONNECTIONS.join(', ')}.`,
        ),
      );
    }
    let driver = this.open.get(name);
    if (!driver) {
      const created = this.create(name as ConnectionName);
      this.open.set(name, created);
      // A connection that failed (Redis down) is tried again on the next use, not cached.
      created.catch(() => {
        if (this.open.get(name) === created) this.open.delete(name);
      });
      driver = created;
    }
    return driver;
  }

  private async create(name: ConnectionName): Promise<QueueDriver> {
    const { env, cwd } = this.deps;
    if (name === 'database') {
      const db = await this.deps.db();
      if (db.dialect === 'sqlite') {
        const { SqliteQueue } = await import('./database/sqlite-queue.js');
        return new SqliteQueue({ filename: resolve(cwd, env.DB_DATABASE) });
      }
      const { PostgresQueue } = await import('./database/postgres-queue.js');
      return new PostgresQueue({ knex: db.knex, url: env.DATABASE_URL! });
    }
    if (name === 'sync') {
      const { SyncQueue } = await import('./sync-queue.js');
      return new SyncQueue({
        db: await this.deps.db(),
        registry: await this.deps.registry(),
        rateLimits: await this.deps.rateLimits(),
      });
    }
    // redis: jobs in Redis; failed jobs (and the worker control tables) stay in SQL storage,
    // which is opened only when a job finally fails.
    const { RedisQueue } = await import('./redis/redis-queue.js');
    const redis = new RedisQueue({
      url: env.REDIS_URL,
      prefix: env.REDIS_PREFIX,
      knex: async () => (await this.deps.db()).knex,
    });
    await redis.connect();
    return redis;
  }

  async close(): Promise<void> {
    const drivers = await Promise.allSettled([...this.open.values()]);
    this.open.clear();
    await Promise.all(drivers.map((d) => (d.status === 'fulfilled' ? d.value.close() : undefined)));
  }
}
