/**
 * The dashboard in a real browser: Debian's Chromium (`chromium` in test/helpers/tools.json)
 * driven by playwright-core, with a fresh profile per launch; and the dashboard's handler on a
 * node:http server of its own, on a free port of 127.0.0.1.
 */
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { pathToFileURL } from 'node:url';
import type * as HandlerModule from '../../src/http/handler.js';
import type { DashboardOptions } from '../../src/http/handler.js';
import { REPO_ROOT } from './cli.js';
import { onPath } from './tools.js';
import { tempDir } from './services.js';

/** The flags of the issue: no sandbox (containers), nothing that talks to Google's servers. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** /usr/bin/chromium, or the first `chromium` on PATH. */
export function chromiumPath(): string {
  if (onPath('chromium', '/usr/bin')) return '/usr/bin/chromium';
  const folder = (process.env.PATH ?? '')
    .split(path.delimiter)
    .find((f) => f && onPath('chromium', f));
  if (!folder)
    throw new Error('chromium is not installed (Debian/Ubuntu: apt-get install chromium)');
  return path.join(folder, 'chromium');
}

export interface Browser {
  /** A new tab that records console errors and uncaught exceptions in `problems`. */
  page(): Promise<Page>;
  /** Console errors and page errors of every tab so far (a CSP violation is one). */
  problems: string[];
  /** Close every open tab (after each test: a tab left polling would log into the next). */
  closePages(): Promise<void>;
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<Browser> {
  const profile = tempDir('jobsmith-chromium-');
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile.path, {
      executablePath: chromiumPath(),
      headless: true,
      args: CHROMIUM_ARGS,
      viewport: { width: 1280, height: 800 },
      timeout: 60_000,
    });
  } catch (error) {
    profile.cleanup();
    throw error;
  }
  // Well inside the test's own timeout, so a failure names the locator it waited for.
  context.setDefaultTimeout(10_000);
  const problems: string[] = [];
  return {
    problems,
    async page() {
      const page = await context.newPage();
      page.on('console', (m) => {
        if (m.type() === 'error') problems.push(`console: ${m.text()} (${m.location().url})`);
      });
      page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
      return page;
    },
    async closePages() {
      await Promise.all(context.pages().map((p) => p.close()));
    },
    async close() {
      await context.close();
      profile.cleanup();
    },
  };
}

export interface DashboardServer {
  /** `http://127.0.0.1:PORT/` (with `basePath` and its slash, when given). */
  url: string;
  close(): Promise<void>;
}

/**
 * createDashboardHandler on `http.createServer`, port 0. `env`: the app's variables, written to
 * its .env (the handler reads the app's environment as `run` does).
 */
export async function startDashboard(
  cwd: string,
  env: Record<string, string | undefined>,
  options: DashboardOptions = {},
): Promise<DashboardServer> {
  const lines = Object.entries(env)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `${key}=${value}`);
  writeFileSync(path.join(cwd, '.env'), `${lines.join('\n')}\n`);
  // The built handler, as `run serve` runs it: its queue-state reader is a worker thread started
  // from the built file next to it in dist/, which the sources vitest runs do not have.
  const built = pathToFileURL(path.join(REPO_ROOT, 'dist/src/http/handler.js')).href;
  const { createDashboardHandler } = (await import(built)) as typeof HandlerModule;
  const handler = createDashboardHandler({ cwd, ...options });
  const server = http.createServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${options.basePath ?? ''}/`,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await handler.close();
    },
  };
}
