import pg from 'pg';
import { afterEach, expect, it } from 'vitest';
import { withClient } from '../src/queue/database/pg-checkout.js';
import { heldStartupProxy, type HeldStartupProxy } from './helpers/held-startup-proxy.js';
import { describePg, pgAdminUrl } from './helpers/services.js';

describePg('pgsql driver: a client checked out as the server shuts it down', () => {
  let proxy: HeldStartupProxy | undefined;
  let pool: pg.Pool | undefined;
  const uncaught: unknown[] = [];
  const onUncaught = (error: unknown) => uncaught.push(error);
  afterEach(async () => {
    process.off('uncaughtException', onUncaught);
    await pool?.end().catch(() => {});
    await proxy?.close();
  });

  it('the shutdown message read with the new connection’s ReadyForQuery fails the work, not the process', async () => {
    process.on('uncaughtException', onUncaught);
    const admin = new URL(pgAdminUrl());
    proxy = await heldStartupProxy({ host: admin.hostname, port: Number(admin.port || 5432) });
    const viaProxy = new URL(admin);
    viaProxy.port = String(proxy.port);
    pool = new pg.Pool({ connectionString: viaProxy.toString(), max: 1 });
    pool.on('error', () => {}); // as the driver's pool does: an idle client's error is the pool's

    const ran: string[] = [];
    const work = withClient(pool, async (client) => {
      ran.push('fn');
      return client.query('select 1');
    });
    const outcome = work.then(
      () => 'succeeded',
      (error: Error) => error.message,
    );
    // The backend ends while its startup answer is held: the client then reads both at once.
    const pid = await proxy.held;
    const terminator = new pg.Client({ connectionString: pgAdminUrl() });
    await terminator.connect();
    try {
      await terminator.query('select pg_terminate_backend($1)', [pid]);
    } finally {
      await terminator.end();
    }

    const result = await outcome;
    expect(uncaught.map((e) => (e instanceof Error ? e.message : String(e)))).toEqual([]);
    expect(result).toBe('terminating connection due to administrator command');
    expect(ran).toEqual([]);
  });
});
