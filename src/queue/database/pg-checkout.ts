import type pg from 'pg';

/**
 * Runs `fn` on a client checked out of `pool`, then returns it. While a client is checked out
 * the pool no longer listens for its errors, and pg reports a server message that arrives
 * between two queries ("terminating connection due to administrator command", a restart) as an
 * 'error' event: with nobody listening, an uncaught exception that stopped an idle worker with
 * exit 15 instead of riding out the restart. Here the error is kept, the next query fails as it
 * would anyway, and a client that failed is destroyed rather than handed out again.
 */
export async function withClient<T>(
  pool: pg.Pool,
  fn: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  const onError = (error: Error) => {
    broken = error;
  };
  client.on('error', onError);
  try {
    return await fn(client);
  } catch (error) {
    broken ??= error instanceof Error ? error : new Error(String(error));
    throw error;
  } finally {
    client.off('error', onError);
    client.release(broken);
  }
}
