/**
 * The one hook between a worker and its history: `run queue:work` (and an embedded worker, and
 * the benchmarks) call startHistory after making the Worker, and close() once it has stopped.
 */
import type { EventEmitter } from 'node:events';
import type { Knex } from 'knex';
import type { QueueSettings } from '../config/define.js';
import type { JobRegistry } from '../jobs/registry.js';
import type { WorkerEvents } from '../worker/events.js';
import { HistoryPruner } from './prune.js';
import { RetentionTable } from './retention.js';
import { HistoryWriter } from './writer.js';

export interface HistoryOptions {
  knex: Knex;
  /** The driver's connection name. */
  connection: string;
  registry: JobRegistry;
  /** The config's `queues` (their `retain`). */
  queueSettings?: Readonly<Record<string, QueueSettings>>;
  /** The queues the worker serves. */
  queues: readonly string[];
  /** @defaultValue 1000 */
  flushMs?: number;
  /** Prune expired rows while the worker runs. @defaultValue true */
  prune?: boolean;
  /** @defaultValue 60000 */
  pruneIntervalMs?: number;
}

export interface RunningHistory {
  writer: HistoryWriter;
  pruner?: HistoryPruner;
  /** Stops listening, writes what is buffered, stops pruning. Never rejects. */
  close(): Promise<void>;
}

/** The retention of the app's jobs and queues: their `retain`, over the defaults. */
export function retentionTable(
  registry: JobRegistry,
  queueSettings?: Readonly<Record<string, QueueSettings>>,
): RetentionTable {
  return new RetentionTable(
    (name) => registry.get(name)?.retain,
    (queue) => queueSettings?.[queue]?.retain,
  );
}

/** Records `worker`'s finished jobs as their retention says; errors go to worker:error. */
export function startHistory(
  worker: EventEmitter<WorkerEvents>,
  o: HistoryOptions,
): RunningHistory {
  const retention = retentionTable(o.registry, o.queueSettings);
  const onError = (error: Error, during: string) => worker.emit('worker:error', { error, during });
  const writer = new HistoryWriter({
    knex: o.knex,
    connection: o.connection,
    retention,
    flushMs: o.flushMs,
    onError,
  });
  const keepsSucceeded = retention.keepsSucceeded(o.registry.names(), o.queues);
  const detach = writer.attach(worker, keepsSucceeded);
  const pruner =
    o.prune === false
      ? undefined
      : new HistoryPruner({ knex: o.knex, onError, intervalMs: o.pruneIntervalMs });
  pruner?.start();
  return {
    writer,
    pruner,
    async close() {
      detach();
      await writer.close();
      await pruner?.stop();
    },
  };
}
