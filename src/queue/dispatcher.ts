import { ConfigError } from '../errors.js';
import { prepareJob } from '../jobs/prepare.js';
import type { DispatchOptions, DispatchResult, JobDefinition } from '../jobs/types.js';
import type { Knex } from 'knex';
import type { JobBatches, NewJob, PushResult, QueueDriver } from './driver.js';
import type { JobHeaders } from './headers.js';

/** What dispatchMany takes: a job, its payload, its options. */
export interface DispatchItem<P> {
  job: JobDefinition<P>;
  payload: P;
  options?: DispatchOptions;
}

/**
 * Runs `fn` in one transaction of the SQL storage, with a dispatchMany whose jobs commit or roll
 * back with `fn`'s own statements (see Dispatcher.transactional).
 */
export type TransactionalDispatch = <T>(
  fn: (
    trx: Knex.Transaction,
    dispatchMany: <P>(items: Array<DispatchItem<P>>) => Promise<DispatchResult[]>,
    /** Pushes rows already prepared (prepareJob), with their own headers (workflows). */
    pushPrepared: (jobs: NewJob[]) => Promise<PushResult[]>,
  ) => Promise<T>,
) => Promise<T>;

/** What a DispatchAround is told of a store of jobs. */
export interface DispatchInfo {
  /** The jobs about to be stored; undefined for a bulk dispatch read back in batches (pushStream). */
  jobs?: readonly NewJob[];
  /** The driver's connection name: `database`, `redis` or `sync`. */
  connection: string;
}

/**
 * A dispatch hook: wraps every store of dispatched jobs, so that an integration can observe it
 * without the core knowing of it (tracing: a span around the store, whose context every job
 * carries to its run; src/telemetry/traces/). It must call `store` once, with the headers to add
 * to every job of the store (undefined: none), and resolve or reject as `store` does.
 */
export type DispatchAround = <T>(
  info: DispatchInfo,
  store: (headers?: JobHeaders) => Promise<T>,
) => Promise<T>;

/**
 * Pushes jobs through a driver. One per connection; `dispatch()` from application code goes
 * through one of these (see src/queue/client.ts).
 */
export class Dispatcher {
  constructor(
    private readonly driverFor: (connection?: string) => Promise<QueueDriver>,
    /** Wraps every store (App sets it when TELEMETRY_ENABLED is true); none: jobs go as they are. */
    private readonly around?: DispatchAround,
  ) {}

  async dispatch<P>(
    job: JobDefinition<P>,
    payload: P,
    options: DispatchOptions = {},
  ): Promise<DispatchResult> {
    const [result] = await this.push(
      [prepareJob(job, payload, options)],
      options.connection ?? job.connection,
    );
    return result!;
  }

  async dispatchIf<P>(
    condition: unknown,
    job: JobDefinition<P>,
    payload: P,
    options?: DispatchOptions,
  ) {
    return condition ? this.dispatch(job, payload, options) : undefined;
  }

  async dispatchUnless<P>(
    condition: unknown,
    job: JobDefinition<P>,
    payload: P,
    options?: DispatchOptions,
  ) {
    return condition ? undefined : this.dispatch(job, payload, options);
  }

  /**
   * Dispatches many jobs in one transaction: all are stored, or none. They go to `connection`,
   * else to the one connection their definitions name (one transaction cannot span two).
   */
  async dispatchMany<P>(
    items: Array<{ job: JobDefinition<P>; payload: P; options?: DispatchOptions }>,
    connection?: string,
  ): Promise<DispatchResult[]> {
    const named = [...new Set(items.map((i) => i.options?.connection ?? i.job.connection))];
    if (connection === undefined && named.length > 1) {
      // Names may differ and still mean one driver (`redis` and a default of redis).
      const drivers = new Set(await Promise.all(named.map((name) => this.driverFor(name))));
      if (drivers.size > 1) {
        throw new ConfigError(
          `dispatchMany stores its jobs in one transaction, but they name different connections: ${named.map((c) => c ?? 'the default').join(', ')}.`,
          { hint: 'Dispatch the jobs of each connection with their own dispatchMany call.' },
        );
      }
    }
    return this.push(
      items.map((i) => prepareJob(i.job, i.payload, i.options)),
      connection ?? named[0],
    );
  }

  /**
   * Dispatches that share a transaction with the caller's own SQL statements, when `connection`'s
   * driver keeps its jobs in the SQL storage (QueueDriver.transaction: PostgreSQL's database
   * queue); undefined for every other driver, whose callers need an outbox instead.
   */
  async transactional(connection?: string): Promise<TransactionalDispatch | undefined> {
    const driver = await this.driverFor(connection);
    const transaction = driver.transaction?.bind(driver);
    if (!transaction) return undefined;
    const { around } = this;
    const { connection: name } = driver;
    return (fn) =>
      transaction((trx, push) => {
        const pushPrepared = (jobs: NewJob[]) =>
          around
            ? around({ jobs, connection: name }, (headers) => push(withHeaders(jobs, headers)))
            : push(jobs);
        return fn(
          trx,
          (items) => pushPrepared(items.map((i) => prepareJob(i.job, i.payload, i.options))),
          pushPrepared,
        );
      });
  }

  /** Pushes rows that are already prepared (used by queue:retry and queue:dispatch). */
  async push(jobs: NewJob[], connection?: string): Promise<DispatchResult[]> {
    if (jobs.length === 0) return [];
    const driver = await this.driverFor(connection);
    if (!this.around) return driver.push(jobs);
    return this.around({ jobs, connection: driver.connection }, (headers) =>
      driver.push(withHeaders(jobs, headers)),
    );
  }

  /**
   * Stores a bulk dispatch read back from disk (see QueueDriver.pushStream for the atomicity on
   * each storage), handing each batch's results to `stored` in order. A driver without
   * pushStream gets everything in one push: all or none, but held in memory.
   */
  async pushStream(
    batches: JobBatches,
    stored: (results: PushResult[]) => void | Promise<void>,
    connection?: string,
  ): Promise<void> {
    const driver = await this.driverFor(connection);
    const store = async (headers?: JobHeaders): Promise<void> => {
      const source = headers ? batchesWithHeaders(batches, headers) : batches;
      if (driver.pushStream) return driver.pushStream(source, stored);
      const all: NewJob[] = [];
      for await (const batch of source(FALLBACK_BATCH)) all.push(...batch);
      if (all.length > 0) await stored(await driver.push(all));
    };
    return this.around ? this.around({ connection: driver.connection }, store) : store();
  }
}

/** `jobs`, each with `headers` added to its own; `jobs` itself when there are none. */
function withHeaders(jobs: NewJob[], headers: JobHeaders | undefined): NewJob[] {
  if (!headers) return jobs;
  return jobs.map((job) => ({ ...job, headers: { ...job.headers, ...headers } }));
}

function batchesWithHeaders(batches: JobBatches, headers: JobHeaders): JobBatches {
  return async function* (batchSize) {
    for await (const batch of batches(batchSize)) yield withHeaders(batch, headers);
  };
}

/** Batch size when a driver without pushStream gets a bulk dispatch in one push. */
const FALLBACK_BATCH = 1000;
