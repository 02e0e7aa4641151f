/**
 * `run serve` the way an operator runs it: a process of its own serving over real HTTP on
 * 127.0.0.1, refusing to open itself to the network without DASHBOARD_TOKEN, stopping on
 * SIGTERM with exit code 0.
 */
import { once } from 'node:events';
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type TestApp } from '../helpers/app.js';
import { sparePort } from '../helpers/spare-port.js';

const CONFIG = `export default { jobs: [] };\n`;
const TOKEN = 'serve-test-token-0123456789abcdef';

describe('run serve', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await createApp('sqlite', CONFIG);
  });
  afterAll(async () => {
    await app?.cleanup();
  });

  it('serves the API on the port and base path given, and stops on SIGTERM with exit 0', async () => {
    const port = await sparePort();
    const serve = app.spawn(['serve', '--port', String(port), '--base-path', '/jobs/']);
    const [, url] = await serve.waitForOutput(/Serving the dashboard at (\S+)\. Ctrl\+C/, 30_000);
    expect(url).toBe(`http://127.0.0.1:${port}/jobs/`);
    const response = await fetch(`${url}api/session`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ readOnly: false, csrfToken: expect.any(String) });
    // The queue sizes come from the snapshot's reader thread, which SIGTERM stops too.
    const queues = await fetch(`${url}api/queues`);
    expect([queues.status, await queues.json()]).toEqual([200, []]);
    // A write is recorded as the dashboard's, from the client's address (not the server's user).
    const paused = await fetch(`${url}api/queues/from-http/pause`, { method: 'POST' });
    expect(paused.status).toBe(200);
    const listed = await app.run(['queue:paused', '--json']);
    expect(JSON.parse(listed.stdout)).toEqual([
      expect.objectContaining({ queue: 'from-http', paused_by: 'the dashboard, from 127.0.0.1' }),
    ]);
    const result = await serve.stop('SIGTERM');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('Stopped.');
  });

  it('refuses a host other than loopback without DASHBOARD_TOKEN: exit 2, saying why', async () => {
    const result = await app.run(['serve', '--host', '0.0.0.0', '--port', '1'], { spawn: true });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      'Refusing to serve the dashboard on 0.0.0.0 without DASHBOARD_TOKEN set',
    );
    expect(result.stderr).toContain('Set DASHBOARD_TOKEN');
  });

  it('with DASHBOARD_TOKEN on 0.0.0.0, a request without the token gets 401 over HTTP', async () => {
    const port = await sparePort();
    const serve = app.spawn(['serve', '--host', '0.0.0.0', '--port', String(port), '--json'], {
      env: { DASHBOARD_TOKEN: TOKEN },
    });
    await serve.waitForOutput(/"event":"dashboard:serving"/, 30_000);
    const local = `http://127.0.0.1:${port}/api/session`;
    const refused = await fetch(local);
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toMatch(/^Basic realm="jobsmith"/);
    const allowed = await fetch(local, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(allowed.status).toBe(200);
    const result = await serve.stop('SIGTERM');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('"event":"dashboard:stopped"');
  });

  it('exits 1 naming the port when another process holds it', async () => {
    const holder = createServer();
    holder.listen(0, '127.0.0.1');
    await once(holder, 'listening');
    const { port } = holder.address() as { port: number };
    try {
      const result = await app.run(['serve', '--port', String(port)], { spawn: true });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(
        `Cannot serve the dashboard: port ${port} on 127.0.0.1 is already in use by another process.`,
      );
    } finally {
      holder.close();
    }
  });
});
