import type { IncomingMessage, ServerResponse } from 'node:http';
import { getRequestListener } from '@hono/node-server';
import { Hono } from 'hono';
import { App } from '../cli/app.js';
import { createApi } from './api.js';
import type { DashboardDeps } from './context.js';
import { allowedMethods } from './methods.js';
import { errorBody } from './errors.js';
import { DashboardSnapshot } from './snapshot.js';
import { redirectMountRoot, servePages } from './static.js';
import { requireCsrf, requireKnownHost, requireToken } from './security.js';

export interface DashboardOptions {
  /**
   * Where the app lives: its .env and jobsmith.config.ts are read from here.
   * @defaultValue process.cwd()
   */
  cwd?: string;
  /** Path of the config file. @defaultValue JOBSMITH_CONFIG, else ./jobsmith.config.ts */
  config?: string;
  /** Refuse every write (403) and show no buttons. @defaultValue DASHBOARD_READ_ONLY, else false */
  readOnly?: boolean;
  /** The queue connection shown. @defaultValue QUEUE_CONNECTION */
  connection?: string;
  /**
   * The path the dashboard is served under by `run serve --base-path` (`/jobs`). Leave it out
   * when mounting: Express and others strip their mount path before the handler sees the URL.
   * @defaultValue ''
   */
  basePath?: string;
  /**
   * Host names (without port) the dashboard answers besides loopback when DASHBOARD_TOKEN is not
   * set: mounted in an app behind its own login, `['admin.example.com']`. Without a token every
   * other Host gets 403 `host_not_allowed` (a page of any site could otherwise reach a local
   * dashboard by pointing its name at 127.0.0.1). With a token, every host is answered.
   * @defaultValue []
   */
  allowedHosts?: string[];
  /** Unexpected errors (500s), for your log. */
  onError?: (error: Error) => void;
}

/** A plain node:http request handler, plus close() for the storage connections it opened. */
export type DashboardHandler = ((req: IncomingMessage, res: ServerResponse) => void) & {
  /** The Fetch-API form of the same handler (Hono, Bun, Deno, workers). */
  fetch: (request: Request) => Response | Promise<Response>;
  close(): Promise<void>;
};

/**
 * The dashboard and its JSON API as a request handler for an existing Node server:
 * `app.use('/jobs', createDashboardHandler())` in Express, `http.createServer(handler)`.
 */
export function createDashboardHandler(options: DashboardOptions = {}): DashboardHandler {
  const cwd = options.cwd ?? process.cwd();
  const app = new App(cwd, { config: options.config });
  const snapshot = new DashboardSnapshot({
    cwd,
    config: options.config,
    connection: options.connection,
  });
  const deps: DashboardDeps = {
    app,
    readOnly: options.readOnly ?? app.env.DASHBOARD_READ_ONLY ?? false,
    connection: options.connection,
    snapshot,
    allowedHosts: options.allowedHosts,
    onError: options.onError,
  };
  const root = createDashboardApp(deps, options.basePath ?? '');
  const listener = getRequestListener(root.fetch);
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    if (redirectMountRoot(req, res)) return;
    if (bodyAlreadyRead(req)) return answerBodyAlreadyRead(res);
    void listener(req, res);
  };
  return Object.assign(handler, {
    fetch: root.fetch,
    close: async () => {
      await snapshot.close();
      await app.close();
    },
  });
}

/** The whole site: the API under `{base}/api`, the pages under `{base}/`. */
export function createDashboardApp(deps: DashboardDeps, basePath: string): Hono {
  const root = new Hono().basePath(basePath || '/');
  // Before any route, pages included: without the token nothing is answered.
  root.use('*', requireToken(deps.app.env.DASHBOARD_TOKEN));
  root.use('*', requireKnownHost(deps.app.env.DASHBOARD_TOKEN, deps.allowedHosts));
  root.use('*', requireCsrf(deps));
  root.route('/api', createApi(deps));
  root.get('/*', servePages(basePath));
  const allowed = allowedMethods(root, `${basePath}/api/`);
  // Hono answers unknown paths of a mounted app from the root: JSON under the API.
  root.notFound((c) => {
    const { method, path } = c.req;
    if (!path.startsWith(`${basePath}/api/`) && path !== `${basePath}/api`)
      return c.text(notFoundText(path, basePath), 404);
    const methods = allowed(path);
    if (methods.length === 0)
      return c.json(errorBody('not_found', `No endpoint ${method} ${path}.`), 404);
    c.header('Allow', methods.join(', '));
    return c.json(
      errorBody(
        'method_not_allowed',
        `${path} does not take ${method}; it takes ${methods.filter((m) => m !== 'HEAD').join(' or ')}.`,
      ),
      405,
    );
  });
  return root;
}

/** Not found, with a hint when the path looks like the dashboard's under a prefix not told. */
function notFoundText(path: string, basePath: string): string {
  const api = path.indexOf('/api/');
  if (api > 0 && !path.startsWith(`${basePath}/api/`)) {
    const prefix = path.slice(0, api);
    return `Not found: ${path}. If the dashboard is served under ${prefix}, pass basePath: '${prefix}' to createDashboardHandler (or mount it where the framework strips the prefix).`;
  }
  return 'Not found';
}

/**
 * A write whose body something read before the handler (a body parser such as express.json()
 * in front of it): Node's stream is spent, and the handler would see an empty body, which for
 * POST /api/failed/retry would mean "no filter".
 */
function bodyAlreadyRead(req: IncomingMessage): boolean {
  if (req.method === 'GET' || req.method === 'HEAD' || req.method === 'OPTIONS') return false;
  return (req as IncomingMessage & { body?: unknown }).body !== undefined || req.readableEnded;
}

function answerBodyAlreadyRead(res: ServerResponse): void {
  const message =
    "The request body was read before the dashboard saw it: a body parser (express.json(), fastify's content parsers) runs in front of it. Mount the dashboard before the body parser, or apply the parser only to your own routes.";
  res.writeHead(500, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify(errorBody('body_already_read', message)));
}
