import { createServer } from 'node:http';
import { getRequestListener } from '@hono/node-server';
import type { App } from '../cli/app.js';
import { ConfigError, UsageError } from '../errors.js';
import { listenOn } from '../util/listen.js';
import { createDashboardApp } from './handler.js';
import { DashboardSnapshot } from './snapshot.js';

/**
 * `run serve`: the dashboard and its API on a node:http server of their own. The command parses
 * its flags and delegates here.
 */

/**
 * The dashboard cannot listen where it was asked: the port is taken or privileged, or the host
 * is not an address of this machine. Exit code 1, a setting to fix.
 */
export class DashboardPortError extends ConfigError {}

export interface ServeOptions {
  /** Address to listen on. @defaultValue '127.0.0.1' */
  host: string;
  /** TCP port, 1 to 65535. */
  port: number;
  /** Path the dashboard is served under (`/jobs`), '' for the root; see basePathOf. */
  basePath: string;
  /** Refuse every write with 403. */
  readOnly: boolean;
  /** The queue connection shown. @defaultValue QUEUE_CONNECTION */
  connection?: string;
  /** The config file (`--config`), for the snapshot's reader thread. @defaultValue JOBSMITH_CONFIG, else ./jobsmith.config.ts */
  config?: string;
}

export interface DashboardServer {
  /** `http://host:port{base}/`, what a browser opens. */
  url: string;
  port: number;
  /** Stops listening, ends open connections and waits for the server to close. */
  close(): Promise<void>;
}

/** 127.0.0.0/8, ::1 and localhost: reachable only from this machine. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h);
}

/**
 * `--base-path` in the form the router takes: `/jobs` (a leading slash, none at the end), or ''
 * for the root. Throws UsageError (exit 2) for anything but path segments of URL-safe characters.
 */
export function basePathOf(value: string): string {
  const trimmed = value.trim().replace(/\/+$/, '');
  if (trimmed === '') return '';
  if (!/^(\/[A-Za-z0-9._~-]+)+$/.test(trimmed)) {
    throw new UsageError(
      `--base-path must be a path such as /jobs or /admin/queues (letters, digits and . _ ~ -); got "${value}".`,
    );
  }
  return trimmed;
}

/**
 * Starts the server. Refuses (UsageError, exit 2) a host other than loopback when
 * DASHBOARD_TOKEN is not set: the dashboard would be open to the network. Rejects with
 * DashboardPortError when the port cannot be had.
 */
export async function startDashboardServer(
  app: App,
  options: ServeOptions,
): Promise<DashboardServer> {
  if (!isLoopback(options.host) && app.env.DASHBOARD_TOKEN === undefined) {
    throw new UsageError(
      `Refusing to serve the dashboard on ${options.host} without DASHBOARD_TOKEN set, as anyone who can reach that address could then retry, cancel and dispatch jobs.`,
      {
        hint: 'Set DASHBOARD_TOKEN (at least 16 characters: openssl rand -hex 32) in the environment or .env, or keep the default --host 127.0.0.1.',
      },
    );
  }
  const snapshot = new DashboardSnapshot({
    cwd: app.cwd,
    config: options.config,
    connection: options.connection,
  });
  const root = createDashboardApp(
    {
      app,
      readOnly: options.readOnly,
      connection: options.connection,
      snapshot,
      onError: (error) => app.log().error({ err: error }, 'dashboard request failed'),
    },
    options.basePath,
  );
  const server = createServer(getRequestListener(root.fetch));
  let listening;
  try {
    listening = await listenOn(server, options.host, options.port, (error) =>
      portError(error, options),
    );
  } catch (error) {
    await snapshot.close();
    throw error;
  }
  return {
    url: `${listening.origin}${options.basePath}/`,
    port: listening.port,
    async close() {
      await listening.close();
      await snapshot.close();
    },
  };
}

function portError(error: NodeJS.ErrnoException, o: ServeOptions): Error {
  const where = `port ${o.port} on ${o.host}`;
  if (error.code === 'EADDRINUSE') {
    return new DashboardPortError(
      `Cannot serve the dashboard: ${where} is already in use by another process.`,
      {
        hint: `Give it a free port with --port, or stop the process that holds it (ss -ltnp 'sport = :${o.port}' shows it).`,
        cause: error,
      },
    );
  }
  if (error.code === 'EACCES') {
    return new DashboardPortError(`Cannot serve the dashboard: ${where} needs privileges.`, {
      hint: 'Use a port above 1023 with --port (the default is 8080).',
      cause: error,
    });
  }
  if (error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND') {
    return new DashboardPortError(
      `Cannot serve the dashboard: ${o.host} is not an address of this machine.`,
      {
        hint: 'Give --host one of its addresses: 127.0.0.1 (the default), 0.0.0.0 for all.',
        cause: error,
      },
    );
  }
  return new DashboardPortError(`Cannot serve the dashboard on ${where}: ${error.message}`, {
    hint: 'Check --host and --port.',
    cause: error,
  });
}
