import type { IncomingMessage, ServerResponse } from 'node:http';
import { getRequestListener } from '@hono/node-server';
import { Hono } from 'hono';
import { App } from '../cli/app.js';
import { createApi } from './api.js';
import type { DashboardDeps } from './context.js';
import { errorBody } from './errors.js';
import { DashboardSnapshot } from './snapshot.js';
import { requireCsrf, requireToken } from './security.js';

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
    onError: options.onError,
  };
  const root = createDashboardApp(deps, options.basePath ?? '');
  const listener = getRequestListener(root.fetch);
  return Object.assign((req: IncomingMessage, res: ServerResponse) => void listener(req, res), {
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
  root.use('*', requireCsrf(deps));
  root.route('/api', createApi(deps));
  // Hono answers unknown paths of a mounted app from the root: JSON under the API.
  root.notFound((c) =>
    c.req.path.startsWith(`${basePath}/api/`) || c.req.path === `${basePath}/api`
      ? c.json(errorBody('not_found', `No endpoint ${c.req.method} ${c.req.path}.`), 404)
      : c.text('Not found', 404),
  );
  return root;
}
