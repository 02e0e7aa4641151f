/*
 * The public dashboard entry point, `jobsmith/http`: the dashboard and its JSON API as a request
 * handler to mount in an existing Node server (docs/dashboard.md, "Mounting"). Kept off
 * `jobsmith` itself, so an app that never serves it never loads Hono.
 */
export { createDashboardHandler } from './handler.js';
export type { DashboardHandler, DashboardOptions } from './handler.js';
export type { ErrorBody, HttpErrorStatus } from './errors.js';
