/*
 * Chains and batches move on when a worker settles their jobs (src/worker/settle.ts). The `sync`
 * connection runs each job inside dispatch() and settles nothing through a worker: a chain would
 * stop after its first step and a batch would never record an outcome or call back, silently.
 * So they are refused there, before anything is stored.
 */
import { ConfigError } from '../errors.js';
import type { Dispatcher } from '../queue/dispatcher.js';

/**
 * @throws ConfigError when `connection` (default: QUEUE_CONNECTION) is the `sync` driver,
 *   naming the connections that work.
 */
export async function refuseSyncConnection(
  dispatcher: Dispatcher,
  connection: string | undefined,
  what: 'chain' | 'batch',
): Promise<void> {
  if ((await dispatcher.driverName(connection)) !== 'sync') return;
  const named =
    connection === undefined ? 'QUEUE_CONNECTION is sync' : `the connection is ${connection}`;
  throw new ConfigError(
    `A ${what} needs a worker, but ${named}: the sync connection runs each job inside dispatch(), so ${what === 'chain' ? 'only its first step would run' : 'its outcomes would never be counted and its callbacks never run'}.`,
    {
      hint: `Dispatch the ${what} on a queue connection: QUEUE_CONNECTION=database or redis, .onConnection('database') in code, or --connection database on the command line.`,
    },
  );
}
