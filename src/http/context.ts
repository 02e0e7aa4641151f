import type { Hono } from 'hono';
import type { App } from '../cli/app.js';
import type { DashboardSnapshot } from './snapshot.js';

/** What every route needs: the app (storage, config, env), and how the dashboard was started. */
export interface DashboardDeps {
  app: App;
  /** True with --read-only or DASHBOARD_READ_ONLY=true: every write is refused with 403. */
  readOnly: boolean;
  /** The queue connection whose queues are shown (QUEUE_CONNECTION by default). */
  connection?: string;
  /**
   * Queue sizes, failed counts, breakers and limits, read by a thread every few seconds: use it
   * for anything that counts rows (a request never does).
   */
  snapshot: DashboardSnapshot;
  /** Host names answered besides loopback while DASHBOARD_TOKEN is unset (DashboardOptions). */
  allowedHosts?: readonly string[];
  /** Unexpected errors (a 500), for the log; their details never reach the response. */
  onError?: (error: Error) => void;
}

/** The Hono app the API's routes are registered on; paths are relative to `{base}/api`. */
export type Api = Hono;

/** A module of routes: `export function register(api, deps)` adds its paths to the API. */
export type RouteModule = (api: Api, deps: DashboardDeps) => void;
