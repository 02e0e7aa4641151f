/*
 * batch(steps): a set of jobs dispatched together and followed as one, with then/catch/finally
 * callback jobs (docs/workflows.md, "Batches"). Loaded by the public entry point: no storage
 * until dispatch().
 */
import { randomUUID } from 'node:crypto';
import { ConfigError } from '../../errors.js';
import { isStep, type WorkflowStep } from '../step.js';
import { batchJobs, checkSteps, storedStep } from './jobs.js';
import type { BatchStorage } from './store-jobs.js';
import type { BatchCallbackKind, BatchOptions } from './store.js';

/** A step of any job: a batch mixes jobs whose payloads differ. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyStep = WorkflowStep<any>;

/** What dispatch() resolves with. */
export interface DispatchedBatch {
  /** The batch's id (a UUID): `run batch:show ID`, ctx.batch.id. */
  id: string;
  /** Its jobs' ids, in the order of the steps. */
  jobIds: string[];
}

/** A batch being described; nothing is stored until dispatch(). */
export class PendingBatch {
  private batchName: string | null = null;
  private allow = false;
  private queue: string | null = null;
  private connection: string | undefined;
  private readonly callbacks: Partial<Record<BatchCallbackKind, WorkflowStep>> = {};

  constructor(private readonly steps: WorkflowStep[]) {}

  /** A name to find the batch by (`run batch:list`); shown as ctx.batch.name. */
  name(name: string): this {
    this.batchName = name;
    return this;
  }

  /** Runs once every job of the batch has succeeded (none failed, none cancelled). */
  then(callback: AnyStep): this {
    return this.callback('then', callback);
  }

  /** Runs once, when the first job of the batch finally fails (with allowFailures too). */
  catch(callback: AnyStep): this {
    return this.callback('catch', callback);
  }

  /** Runs once every job of the batch has its final outcome, whatever it is. */
  finally(callback: AnyStep): this {
    return this.callback('finally', callback);
  }

  /** A job that finally fails does not cancel the batch: the others still run. */
  allowFailures(allow = true): this {
    this.allow = allow;
    return this;
  }

  /** The queue for the jobs and callbacks whose step names none. @defaultValue each job's own */
  onQueue(queue: string): this {
    this.queue = queue;
    return this;
  }

  /** The connection of the jobs and callbacks. @defaultValue the steps' own, else QUEUE_CONNECTION */
  onConnection(connection: string): this {
    this.connection = connection;
    return this;
  }

  /**
   * Stores the batch and its jobs, through the shared client (as `dispatch()` does). See
   * store-jobs.ts for what a crash during it can leave.
   *
   * @throws ConfigError when the batch is empty, a value is not a step, or the steps name
   * different connections; InvalidPayloadError / InvalidDispatchError as dispatch() does.
   */
  async dispatch(): Promise<DispatchedBatch> {
    // Checked before connecting: a mistake costs no connection.
    if (this.steps.length === 0) {
      throw new ConfigError('batch() needs at least one job: batch([step(job, payload), ...]).');
    }
    const connection = this.connectionOfSteps();
    const { sharedApp } = await import('../../queue/client.js');
    const app = await sharedApp();
    const db = await app.db();
    return this.dispatchTo({ db: db.knex, dispatcher: app.dispatcher(), connection });
  }

  /**
   * @internal Stores the batch on the given storage (dispatch() gives the shared client's; the
   * tests give their own). `to.connection` undefined: the steps' own.
   */
  async dispatchTo(to: BatchStorage): Promise<DispatchedBatch> {
    if (this.steps.length === 0) {
      throw new ConfigError('batch() needs at least one job: batch([step(job, payload), ...]).');
    }
    const id = randomUUID();
    const connection = to.connection ?? this.connectionOfSteps();
    const jobs = batchJobs(this.steps, id, this.queue);
    const options: BatchOptions = {
      allowFailures: this.allow,
      queue: this.queue,
      connection: connection ?? null,
      then: this.stored('then'),
      catch: this.stored('catch'),
      finally: this.stored('finally'),
      ran: {},
    };
    const { storeBatch } = await import('./store-jobs.js');
    const jobIds = await storeBatch(
      { ...to, connection },
      { id, name: this.batchName, options, now: Date.now() },
      jobs,
    );
    return { id, jobIds };
  }

  private callback(kind: BatchCallbackKind, s: WorkflowStep): this {
    if (!isStep(s)) {
      // Also what awaiting a PendingBatch (a thenable, for its then()) ends in.
      throw new ConfigError(
        `batch().${kind}() takes one step made by step(): .${kind}(step(newsletterSent, { id: 7 })). To store the batch, await batch(...).dispatch().`,
      );
    }
    this.callbacks[kind] = s;
    return this;
  }

  private stored(kind: BatchCallbackKind) {
    const s = this.callbacks[kind];
    return s ? storedStep(s, this.queue) : null;
  }

  /** One transaction cannot span two connections, nor can one batch's counters. */
  private connectionOfSteps(): string | undefined {
    if (this.connection !== undefined) return this.connection;
    const all = [...this.steps, ...Object.values(this.callbacks)];
    const named = [...new Set(all.map((s) => s.options?.connection ?? s.job.connection))];
    if (named.length > 1) {
      throw new ConfigError(
        `A batch's jobs and callbacks go to one connection, but its steps name ${named.map((c) => c ?? 'the default').join(', ')}.`,
        { hint: 'Name one with .onConnection(...), or dispatch each connection its own batch.' },
      );
    }
    return named[0];
  }
}

/**
 * A batch of jobs: `batch([step(sendNewsletter, { userId: 1 }), ...]).then(step(done, {}))
 * .dispatch()`. See PendingBatch.
 *
 * @throws ConfigError when a value is not made by step().
 */
export function batch(steps: ReadonlyArray<AnyStep>): PendingBatch {
  return new PendingBatch([...checkSteps(steps, 'batch')]);
}
