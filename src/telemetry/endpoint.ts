/*
 * The HTTP side of telemetry: GET /metrics answers with what `render` gives, nothing else is
 * served. It never reads the storage itself; what it renders is in memory (counters of this
 * process, or metrics:serve's cached gauges).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { ConfigError } from '../errors.js';
import { listenOn } from '../util/listen.js';

/**
 * /metrics cannot be served on the port asked for: taken by another process, privileged, or
 * the host is not an address of this machine. Exit code 1 (a setting to fix, like any other
 * configuration error); the message names the port and the hint what to change.
 */
export class MetricsPortError extends ConfigError {}

export interface ScrapeTarget {
  /** The Prometheus text. */
  render(): Promise<string>;
  /** Its Content-Type (prom-client's registry.contentType). */
  contentType: string;
}

export interface ListenOptions {
  port: number;
  host: string;
  /** How the user sets the port, for the hint: `--metrics-port or METRICS_PORT`. */
  portSetting: string;
  /** One of several processes of a program (workers): the hint says how to number ports. */
  numbered?: boolean;
}

export interface MetricsEndpoint {
  /** `http://host:port/metrics`. */
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Listens on `options.port` of `options.host`; rejects with MetricsPortError when it cannot. */
export async function listenForScrapes(
  target: ScrapeTarget,
  options: ListenOptions,
): Promise<MetricsEndpoint> {
  const server = createServer((req, res) => void answer(target, req, res));
  // The endpoint never keeps a process alive: the process's own work does. A command that
  // fails before it closes the endpoint still exits, and a scraper's open connection never
  // holds up a stop.
  server.unref();
  server.on('connection', (socket) => socket.unref());
  const listening = await listenOn(server, options.host, options.port, (error) =>
    portError(error, options),
  );
  return {
    url: `${listening.origin}/metrics`,
    port: listening.port,
    close: listening.close,
  };
}

async function answer(target: ScrapeTarget, req: IncomingMessage, res: ServerResponse) {
  const path = (req.url ?? '/').split('?')[0];
  if (path !== '/metrics') {
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
    res.end('Not found: metrics are at /metrics\n');
    return;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' });
    res.end('Only GET and HEAD\n');
    return;
  }
  try {
    const body = await target.render();
    res.writeHead(200, { 'content-type': target.contentType });
    res.end(req.method === 'HEAD' ? undefined : body);
  } catch (error) {
    res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
    res.end(`Could not render the metrics: ${(error as Error).message}\n`);
  }
}

function portError(error: NodeJS.ErrnoException, o: ListenOptions): Error {
  const where = `port ${o.port} on ${o.host}`;
  if (error.code === 'EADDRINUSE') {
    return new MetricsPortError(
      `Cannot serve /metrics: ${where} is already in use by another process.`,
      {
        hint: `Give this process a free port (${o.portSetting}${o.numbered ? '; under supervisor with numprocs, --metrics-port=94%(process_num)02d' : ''}), or stop the process that holds it (ss -ltnp 'sport = :${o.port}' shows it).`,
        cause: error,
      },
    );
  }
  if (error.code === 'EACCES') {
    return new MetricsPortError(`Cannot serve /metrics: ${where} needs privileges.`, {
      hint: `Use a port above 1023 (${o.portSetting}).`,
      cause: error,
    });
  }
  if (error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND') {
    return new MetricsPortError(
      `Cannot serve /metrics: ${o.host} is not an address of this machine.`,
      {
        hint: 'Set METRICS_HOST (or --host) to one of its addresses: 127.0.0.1 (the default), 0.0.0.0 for all.',
        cause: error,
      },
    );
  }
  return new MetricsPortError(`Cannot serve /metrics on ${where}: ${error.message}`, {
    hint: `Check ${o.portSetting} and METRICS_HOST.`,
    cause: error,
  });
}
