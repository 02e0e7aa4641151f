/**
 * Telemetry off means off, and what goes wrong when it is on says how to fix it: a real `run
 * queue:work` (SQLite; nothing here depends on the backend) with a preload that records whether
 * prom-client or any module of src/telemetry loads (test/fixtures/telemetry/watch-loads.mjs).
 */
import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { createApp, type TestApp } from './helpers/app.js';
import type { CliProcess } from './helpers/cli.js';
import { scrape } from './helpers/prometheus.js';
import { sparePort } from './helpers/spare-port.js';

const WATCH = fileURLToPath(new URL('./fixtures/telemetry/watch-loads.mjs', import.meta.url));

const CONFIG = `import { defineConfig, defineJob } from 'jobsmith';
const quick = defineJob({ name: 'telemetry.quick', handle() {} });
export default defineConfig({ jobs: [quick] });
`;

let app: TestApp | undefined;
const running: CliProcess[] = [];
const held: net.Server[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.stop('SIGTERM', 5000)));
  for (const server of held.splice(0)) await new Promise((r) => server.close(r));
  await app?.cleanup();
  app = undefined;
});

/** Whether something accepts connections on 127.0.0.1:port. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Holds `port` on 127.0.0.1 until the test ends. */
async function holdPort(port: number): Promise<void> {
  const server = net.createServer();
  server.listen(port, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  held.push(server);
}

/** Starts a worker with the load watcher; resolves once it has taken a job (so it is fully up). */
async function watchedWorker(env: Record<string, string>, args: string[] = []) {
  const loads = path.join(app!.cwd, 'loads.txt');
  const pushed = await app!.run(['queue:dispatch', 'telemetry.quick', '--payload', '{}']);
  expect(pushed.code, pushed.stderr).toBe(0);
  const proc = app!.spawn(['queue:work', '--sleep', '200ms', ...args], {
    env: { NODE_OPTIONS: `--import=${WATCH}`, WATCH_LOADS_FILE: loads, ...env },
    timeoutMs: 60_000,
  });
  running.push(proc);
  await proc.waitForOutput(/telemetry\.quick #\d+ DONE/, 20_000);
  const loaded = () => (existsSync(loads) ? readFileSync(loads, 'utf8') : '');
  return { proc, loaded };
}

describe('telemetry off, or unable to serve', () => {
  it('off (the default): prom-client and src/telemetry never load and no port opens, whatever METRICS_PORT says', async () => {
    app = await createApp('sqlite', CONFIG);
    const port = await sparePort();
    const { proc, loaded } = await watchedWorker({ METRICS_PORT: String(port) });
    expect(await listening(port)).toBe(false);
    expect(loaded()).toBe('');
    expect(proc.output).not.toContain('/metrics');
    const stopped = await proc.stop('SIGTERM', 10_000);
    expect(stopped.code, stopped.stderr).toBe(0);
    expect(loaded()).toBe('');
  });

  it('on: the same watcher sees prom-client and src/telemetry load, and the port answers', async () => {
    app = await createApp('sqlite', CONFIG);
    const port = await sparePort();
    const { proc, loaded } = await watchedWorker({
      TELEMETRY_ENABLED: 'true',
      METRICS_PORT: String(port),
    });
    expect(proc.stdout).toContain(`Metrics at http://127.0.0.1:${port}/metrics`);
    expect(await listening(port)).toBe(true);
    expect(loaded()).toContain('require prom-client');
    expect(loaded()).toMatch(/import file:.*\/src\/telemetry\/process\.js/);
    const s = await scrape(`http://127.0.0.1:${port}/metrics`);
    expect(s.value('jobsmith_jobs_processed_total', { outcome: 'succeeded' })).toBe(1);
  });

  it('--metrics-port with telemetry off is ignored, and says so', async () => {
    app = await createApp('sqlite', CONFIG);
    const port = await sparePort();
    const { proc, loaded } = await watchedWorker({}, ['--metrics-port', String(port)]);
    expect(proc.stderr).toContain('--metrics-port is ignored: TELEMETRY_ENABLED is off.');
    expect(await listening(port)).toBe(false);
    expect(loaded()).toBe('');
  });

  it('on without prom-client installed: the worker runs, telemetry is off, and it says what to install', async () => {
    app = await createApp('sqlite', CONFIG);
    const port = await sparePort();
    const { proc, loaded } = await watchedWorker({
      TELEMETRY_ENABLED: 'true',
      METRICS_PORT: String(port),
      HIDE_PROM_CLIENT: '1',
    });
    expect(proc.stderr).toContain(
      'prom-client is not installed, so telemetry is off. Install it in the app: npm install prom-client@15.1.3.',
    );
    expect(loaded()).toContain('require prom-client');
    expect(await listening(port)).toBe(false);
    const stopped = await proc.stop('SIGTERM', 10_000);
    expect(stopped.code, stopped.stderr).toBe(0);
  });

  it('on without a port: nothing is served, and it says which setting to give', async () => {
    app = await createApp('sqlite', CONFIG);
    const { proc } = await watchedWorker({ TELEMETRY_ENABLED: 'true' });
    expect(proc.stderr).toContain(
      'TELEMETRY_ENABLED is on but no port is set, so /metrics is not served (set --metrics-port or METRICS_PORT).',
    );
  });

  it('a taken port: queue:work exits 1 before it takes a job, naming the port and the fix', async () => {
    app = await createApp('sqlite', CONFIG);
    const port = await sparePort();
    await holdPort(port);
    expect((await app.run(['queue:dispatch', 'telemetry.quick', '--payload', '{}'])).code).toBe(0);
    const result = await app.run(['queue:work', '--once', '--metrics-port', String(port)], {
      env: { TELEMETRY_ENABLED: 'true' },
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `Error: Cannot serve /metrics: port ${port} on 127.0.0.1 is already in use by another process.`,
    );
    expect(result.stderr).toContain(
      `Give this process a free port (--metrics-port or METRICS_PORT; under supervisor with numprocs, --metrics-port=94%(process_num)02d), or stop the process that holds it (ss -ltnp 'sport = :${port}' shows it).`,
    );
    expect(result.stdout).not.toContain('RUNNING');
    const size = await app.run(['queue:size', '--json']);
    expect(JSON.parse(size.stdout)[0]).toMatchObject({ queue: 'default', pending: 1 });
  });

  it('a taken port: metrics:serve exits 1 naming the port and --port', async () => {
    app = await createApp('sqlite', CONFIG);
    const port = await sparePort();
    await holdPort(port);
    const result = await app.run(['metrics:serve', '--port', String(port)], {
      env: { TELEMETRY_ENABLED: 'true' },
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `Error: Cannot serve /metrics: port ${port} on 127.0.0.1 is already in use by another process.`,
    );
    expect(result.stderr).toContain('Give this process a free port (--port or METRICS_PORT)');
  });

  it('metrics:serve with telemetry off exits 1 and says what to set; it opens no port', async () => {
    app = await createApp('sqlite', CONFIG);
    const port = await sparePort();
    const result = await app.run(['metrics:serve', '--port', String(port)]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      'Error: TELEMETRY_ENABLED is off, so metrics:serve serves nothing.\nSet TELEMETRY_ENABLED=true in the environment or in .env.',
    );
  });

  it("metrics:serve exits 1 with the storage's own message when it cannot read it at start", async () => {
    app = await createApp('sqlite', CONFIG);
    const port = await sparePort();
    const result = await app.run(['metrics:serve', '--port', String(port)], {
      env: {
        TELEMETRY_ENABLED: 'true',
        DB_CONNECTION: 'pgsql',
        DATABASE_URL: `postgres://postgres@127.0.0.1:${await sparePort()}/nowhere`,
      },
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /^Error: Cannot connect to PostgreSQL at postgres:\/\/postgres@127\.0\.0\.1:\d+\/nowhere: connection refused\.\nCheck DATABASE_URL and that the server is running\.\n$/,
    );
    expect(await listening(port)).toBe(false);
  });

  it('a bad METRICS_PORT or --metrics-port is refused by name', async () => {
    app = await createApp('sqlite', CONFIG);
    const env = await app.run(['queue:work', '--once'], { env: { METRICS_PORT: '70000' } });
    expect(env.code).toBe(1);
    expect(env.stderr).toContain(
      'METRICS_PORT="70000" is not valid; expected a port number from 1 to 65535.',
    );
    const flag = await app.run(['queue:work', '--once', '--metrics-port', 'x']);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain(
      '--metrics-port must be a whole number from 1 to 65535, got "x".',
    );
  });
});
