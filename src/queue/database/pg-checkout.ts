import type pg from 'pg';

/**
 * Runs `fn` on a client checked out of `pool`, then returns it. While a client is checked out
 * the pool no longer listens for its errors, and pg reports a server message that arrives
 * between two queries ("terminating connection due to administrator command", a restart) as an
 * 'error' event: with nobody listening, an uncaught exception that stopped an idle worker with
 * exit 15 instead of riding out the restart. Here the error is kept, the next query fails as it
 * would anyway, and a client that failed is destroyed rather than handed out again.
 *
 * The listener goes on in pool.connect's callback, not after an `await`: the pool stops
 * listening as it hands the client over, and the messages of one socket read are parsed in one
 * go, so a shutdown's error that came in the same read as the new connection's ReadyForQuery
 * was emitted before any promise continuation could listen (an idle worker exited 15 in CI).
 */
export async function withClient<T>(
  pool: pg.Pool,
  fn: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  let broken: Error | undefined;
  const onError = (error: Error) => {
    broken ??= error;
  };
  const client = await new Promise<pg.PoolClient>((resolve, reject) => {
    pool.connect((error, checkedOut) => {
      if (error || !checkedOut) {
        reject(error ?? new Error('The PostgreSQL pool handed out no client.'));
        return;
      }
      checkedOut.on('error', onError);
      resolve(checkedOut);
    });
  });
  try {
    if (broken) throw broken;
    return await fn(client);
  } catch (error) {
    broken ??= error instanceof Error ? error : new Error(String(error));
    throw error;
  } finally {
    client.off('error', onError);
    client.release(broken);
  }
}
