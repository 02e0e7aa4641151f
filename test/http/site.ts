/**
 * The dashboard's site in process (`site.request(...)`, no port) on a real, migrated storage of
 * one backend, as the API specs use it. The queue counts come from the same reader the server's
 * snapshot thread runs, read on each request (no thread, no 2 s wait).
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Hono } from 'hono';
import { App } from '../../src/cli/app.js';
import { createDashboardApp } from '../../src/http/handler.js';
import type { DashboardSnapshot } from '../../src/http/snapshot.js';
import type { QueueDriver } from '../../src/queue/driver.js';
import { readSnapshot } from '../../src/snapshot/snapshot.js';
import { createApp, type AppBackend, type TestApp } from '../helpers/app.js';

export interface TestSite {
  test: TestApp;
  app: App;
  site: Hono;
  driver: QueueDriver;
  close(): Promise<void>;
}

/** A fresh storage of `backend` with `config` as the app's jobsmith.config.ts, and its site. */
export async function openSite(backend: AppBackend, config: string): Promise<TestSite> {
  const test = await createApp(backend, config);
  const env = { ...test.env, LOG_LEVEL: 'silent' };
  const lines = Object.entries(env).filter(([, v]) => v !== undefined);
  // The App reads .env under the real environment, as `run` does.
  writeFileSync(path.join(test.cwd, '.env'), lines.map(([k, v]) => `${k}=${v}`).join('\n'));
  const app = new App(test.cwd);
  const site = createDashboardApp({ app, readOnly: false, snapshot: inProcessSnapshot(app) }, '');
  const driver = await app.queues().get();
  return {
    test,
    app,
    site,
    driver,
    async close() {
      await app.close();
      await test.cleanup();
    },
  };
}

/**
 * The dashboard's snapshot read in this thread at each call: the reader thread of
 * DashboardSnapshot loads the built refresh-thread.js, which a test run from the sources has not.
 */
export function inProcessSnapshot(app: App): DashboardSnapshot {
  const stub: Pick<DashboardSnapshot, 'get' | 'refreshSoon' | 'failure' | 'close'> = {
    get: () => readSnapshot(app),
    refreshSoon: () => {},
    failure: () => undefined,
    close: async () => {},
  };
  return stub as DashboardSnapshot;
}
