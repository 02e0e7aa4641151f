import type * as Bull from 'bullmq';
import type { KeysMap, RedisQueueBackend } from 'bullmq';
import type { ChainableCommander, Redis } from 'ioredis';
import { ConnectionError } from '../../errors.js';
import { maskUrl } from '../../logging/redact.js';
import { checkQueueName } from './redis-jobs.js';
import {
  closeRedis,
  isConnectionFailure,
  openRedis,
  redisConnectionError,
  RedisClock,
} from './redis-connection.js';
import { SCRIPTS } from './redis-scripts.js';
import { requireNative } from '../../util/native-require.js';

// Loaded with require, past any loader hooks of the app: see util/native-require.ts.
const { Queue, QueueKeys } = requireNative<typeof Bull>('bullmq');
type Queue = Bull.Queue;
type QueueKeys = Bull.QueueKeys;

/** Our scripts, as ioredis `defineCommand` adds them to a client, a pipeline or a MULTI. */
export type Scripted = {
  [K in keyof typeof SCRIPTS]: (...args: Array<string | number>) => unknown;
};

/** A pipeline or MULTI on which both BullMQ's scripts and ours can run. */
export type Tx = ChainableCommander &
  Scripted & { runCommand(name: string, args: unknown[]): unknown };

type BullClient = { pipeline(): unknown; multi(): unknown };

/**
 * How long settling a job (complete, release, fail, renew) waits for a lost connection to come
 * back before it gives up: a Redis restart takes well under this, and a job settled after it
 * does not run again. Claims do not wait; the worker backs off and claims again.
 */
const RECONNECT_WAIT_MS = 3000;

/**
 * One Redis connection with BullMQ's Lua scripts and ours loaded, the Redis clock, the keys of
 * each queue, and the ways the driver sends commands: one at a time, several in one write, or
 * in a MULTI. Connection errors come out as ConnectionErrors naming REDIS_URL (masked).
 */
export class BullRedis {
  readonly clock = new RedisClock();
  private readonly queueKeys: QueueKeys;
  private readonly keyCache = new Map<string, KeysMap>();

  private constructor(
    readonly url: string,
    readonly prefix: string,
    readonly client: Redis,
    private readonly bullQueue: Queue,
    private readonly backend: RedisQueueBackend,
    /** BullMQ's wrapper around `client`, which its pipelines need to run its scripts. */
    private readonly bullClient: BullClient,
  ) {
    this.queueKeys = new QueueKeys(prefix);
  }

  /** Connects, failing fast with a ConnectionError when Redis is down, and loads the scripts. */
  static async open(url: string, prefix: string): Promise<BullRedis> {
    const client = await openRedis(url, { name: `${prefix}:jobsmith` });
    try {
      for (const [name, script] of Object.entries(SCRIPTS)) client.defineCommand(name, script);
      // A BullMQ Queue on our client loads BullMQ's scripts into it (defineCommand); its
      // backend runs them. The Queue's own name is never used for keys.
      const bullQueue = new Queue('jobsmith', {
        connection: client,
        prefix,
        skipMetasUpdate: true,
      });
      bullQueue.on('error', () => {});
      await bullQueue.waitUntilReady();
      const backend = bullQueue.backend;
      const bullClient = (await backend.client) as unknown as BullClient;
      const redis = new BullRedis(url, prefix, client, bullQueue, backend, bullClient);
      await redis.clock.sync(client);
      // The server may be another one after a reconnect (a failover): measure its clock again.
      client.on('ready', () => void redis.clock.sync(client).catch(() => {}));
      return redis;
    } catch (error) {
      client.disconnect();
      throw isConnectionFailure(error) ? redisConnectionError(url, error) : error;
    }
  }

  /** BullMQ's keys of a queue (`<prefix>:<queue>:wait`, `…:active`, `…:marker`...). */
  keysOf(queue: string): KeysMap {
    let keys = this.keyCache.get(queue);
    if (!keys) {
      checkQueueName(queue);
      keys = this.queueKeys.getKeys(queue);
      this.keyCache.set(queue, keys);
    }
    return keys;
  }

  /** The keys a queue's jobs live in, in the order our scripts take them. */
  stateKeys(queue: string): string[] {
    const k = this.keysOf(queue);
    return [k.wait, k.paused, k.prioritized, k.delayed, k.active];
  }

  /** The client, if connected; a ConnectionError at once otherwise (the worker backs off). */
  up(): Redis & Scripted {
    if (this.client.status !== 'ready') {
      throw new ConnectionError(`Redis at ${maskUrl(this.url)} is unreachable; reconnecting.`, {
        hint: 'Check REDIS_URL and that the Redis server is running.',
      });
    }
    return this.client as Redis & Scripted;
  }

  /** Waits (bounded) for a connection that is being re-established; see RECONNECT_WAIT_MS. */
  async reconnected(): Promise<void> {
    const client = this.client;
    if (client.status === 'ready' || client.status === 'end') return;
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        client.off('ready', done);
        resolve();
      };
      const timer = setTimeout(done, RECONNECT_WAIT_MS);
      client.on('ready', done);
    });
  }

  /** A pipeline (one round trip) or a MULTI (also atomic) on which BullMQ's scripts can run. */
  tx(kind: 'pipeline' | 'multi'): Tx {
    this.up();
    return (kind === 'multi' ? this.bullClient.multi() : this.bullClient.pipeline()) as Tx;
  }

  /** Queues one of BullMQ's scripts on `tx` (BullMQ names them with its version). */
  run(tx: Tx, script: string, args: unknown[]): void {
    this.backend.execCommand(tx as never, script, args);
  }

  /**
   * Sends one of BullMQ's scripts on its own. Commands sent one after another on a connection
   * run in that order; we send them so rather than in a pipeline, because an ioredis pipeline
   * copies every defined script (BullMQ has about seventy) onto itself when it is made.
   */
  send(script: string, args: unknown[]): Promise<unknown> {
    this.up();
    return this.backend.execCommand(this.bullClient as never, script, args) as Promise<unknown>;
  }

  /** BullMQ's addJob for one job, sent on its own or queued on a MULTI. */
  addJob(
    on: Tx | undefined,
    job: Parameters<RedisQueueBackend['addJobToTransaction']>[1],
    k: KeysMap,
  ) {
    const target = on ?? this.bullClient;
    return this.backend.addJobToTransaction(target as never, job, undefined as never, {}, k);
  }

  /**
   * Runs `send`, which sends `count` commands, with the socket corked, so that they leave in
   * one write instead of a system call each.
   */
  burst<T>(count: number, send: () => T): T {
    if (count < 2) return send();
    const stream = this.client.stream;
    stream?.cork();
    try {
      return send();
    } finally {
      stream?.uncork();
    }
  }

  /**
   * Runs `send` for each item, each sending one command, and writes those in batches that
   * double: the first alone, so that Redis starts on it at once, then 2, 4, 8... corked
   * together while Redis works through the ones before. One write for all leaves Redis idle
   * while the batch is built (at 10 jobs at a time, a fifth of the throughput on an idle
   * machine); one write each costs a system call per command.
   */
  ramp<T, R>(items: readonly T[], send: (item: T) => R): R[] {
    const stream = this.client.stream;
    const sent: R[] = [];
    let flushAt = 1;
    let corked = false;
    try {
      for (let i = 0; i < items.length; i++) {
        if (!corked && i > 0) {
          stream?.cork();
          corked = true;
        }
        sent.push(send(items[i]!));
        if (i + 1 === flushAt) {
          if (corked) stream?.uncork();
          corked = false;
          flushAt = 2 * flushAt + 1;
        }
      }
    } finally {
      if (corked) stream?.uncork();
    }
    return sent;
  }

  /** Awaits commands sent together; the replies, or the first error (connection errors named). */
  async all(calls: Array<Promise<unknown>>): Promise<unknown[]> {
    try {
      return await Promise.all(calls);
    } catch (error) {
      throw this.named(error);
    }
  }

  /** Runs a pipeline or MULTI; the replies, or the first error (connection errors named). */
  async exec(tx: ChainableCommander): Promise<unknown[]> {
    let results: Array<[Error | null, unknown]> | null;
    try {
      results = await tx.exec();
    } catch (error) {
      throw this.named(error);
    }
    if (!results) throw new Error('Redis discarded a transaction');
    return results.map(([error, reply]) => {
      if (error) throw this.named(error);
      return reply;
    });
  }

  private named(error: unknown): unknown {
    return isConnectionFailure(error) ? redisConnectionError(this.url, error) : error;
  }

  async close(): Promise<void> {
    await this.bullQueue.close().catch(() => {});
    await closeRedis(this.client);
  }
}
