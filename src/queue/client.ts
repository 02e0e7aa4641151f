import type { GlobalOptions } from '../cli/app.js';
import type { DispatchOptions, DispatchResult, JobDefinition } from '../jobs/types.js';

export interface ConnectOptions extends GlobalOptions {
  /** Folder holding .env and jobsmith.config.ts. @defaultValue process.cwd() */
  cwd?: string;
}

/** A connected dispatcher for application code. Close it when the app shuts down. */
export interface JobsmithClient {
  dispatch<P>(
    job: JobDefinition<P>,
    payload: P,
    options?: DispatchOptions,
  ): Promise<DispatchResult>;
  dispatchIf<P>(
    condition: unknown,
    job: JobDefinition<P>,
    payload: P,
    options?: DispatchOptions,
  ): Promise<DispatchResult | undefined>;
  dispatchUnless<P>(
    condition: unknown,
    job: JobDefinition<P>,
    payload: P,
    options?: DispatchOptions,
  ): Promise<DispatchResult | undefined>;
  /** All jobs in one transaction: all are stored, or none. */
  dispatchMany<P>(
    items: Array<{ job: JobDefinition<P>; payload: P; options?: DispatchOptions }>,
  ): Promise<DispatchResult[]>;
  close(): Promise<void>;
}

/**
 * Connects to the storage the environment names (DB_CONNECTION, QUEUE_CONNECTION, .env in
 * `cwd`), the same way `run` does.
 */
export async function connect(options: ConnectOptions = {}): Promise<JobsmithClient> {
  const { App } = await import('../cli/app.js');
  const app = new App(options.cwd ?? process.cwd(), options);
  const dispatcher = app.dispatcher();
  const client: JobsmithClient = {
    dispatch: (job, payload, o) => dispatcher.dispatch(job, payload, o),
    dispatchIf: (c, job, payload, o) => dispatcher.dispatchIf(c, job, payload, o),
    dispatchUnless: (c, job, payload, o) => dispatcher.dispatchUnless(c, job, payload, o),
    dispatchMany: (items) => dispatcher.dispatchMany(items),
    close: () => app.close(),
  };
  apps.set(client, app);
  return client;
}

const apps = new WeakMap<JobsmithClient, import('../cli/app.js').App>();

/**
 * The App behind the shared client (connected on first use), for built-ins that need the
 * config or the SQL storage (sendTelegram, scheduleTelegram). Not part of the public API.
 */
export async function sharedApp(): Promise<import('../cli/app.js').App> {
  return apps.get(await client())!;
}

let shared: Promise<JobsmithClient> | undefined;

function client(): Promise<JobsmithClient> {
  shared ??= connect();
  return shared;
}

/** Dispatches through a shared client connected on first use; `disconnect()` closes it. */
export async function dispatch<P>(
  job: JobDefinition<P>,
  payload: P,
  options?: DispatchOptions,
): Promise<DispatchResult> {
  return (await client()).dispatch(job, payload, options);
}

export async function dispatchIf<P>(
  condition: unknown,
  job: JobDefinition<P>,
  payload: P,
  options?: DispatchOptions,
) {
  return condition ? dispatch(job, payload, options) : undefined;
}

export async function dispatchUnless<P>(
  condition: unknown,
  job: JobDefinition<P>,
  payload: P,
  options?: DispatchOptions,
) {
  return condition ? undefined : dispatch(job, payload, options);
}

export async function dispatchMany<P>(
  items: Array<{ job: JobDefinition<P>; payload: P; options?: DispatchOptions }>,
) {
  return (await client()).dispatchMany(items);
}

/** Closes the shared client used by dispatch(). */
export async function disconnect(): Promise<void> {
  const current = shared;
  shared = undefined;
  await (await current)?.close();
}
