/**
 * createDashboardHandler mounted in a plain node:http server, as users mount it in Express: the
 * mistakes of mounting are answered with what to do, never acted on. A body parser in front of
 * it must not turn "retry these" into "retry everything", and a prefix the handler was not told
 * about gets a hint.
 */
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type * as HandlerModule from '../../src/http/handler.js';
import { REPO_ROOT } from '../helpers/cli.js';
import { appEnv } from '../helpers/env.js';
import { tempDir, type TempDir } from '../helpers/services.js';

describe('the dashboard mounted in a node:http server', () => {
  let dir: TempDir;
  let server: http.Server;
  let handler: HandlerModule.DashboardHandler;
  let base: string;

  beforeAll(async () => {
    dir = tempDir('jobsmith-mount-');
    const env = appEnv({ DB_DATABASE: path.join(dir.path, 'db.sqlite'), LOG_LEVEL: 'silent' });
    writeFileSync(
      path.join(dir.path, '.env'),
      Object.entries(env)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => `${k}=${v}`)
        .join('\n'),
    );
    // The built handler, as an app imports it from jobsmith/http.
    const built = pathToFileURL(path.join(REPO_ROOT, 'dist/src/http/handler.js')).href;
    const { createDashboardHandler } = (await import(built)) as typeof HandlerModule;
    handler = createDashboardHandler({ cwd: dir.path });
    server = http.createServer((req, res) => {
      // /parsed/...: a body parser ran first (express.json() reads the stream, sets req.body).
      if (req.url?.startsWith('/parsed/')) {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          (req as http.IncomingMessage & { body?: unknown }).body = JSON.parse(
            Buffer.concat(chunks).toString() || '{}',
          );
          req.url = req.url!.slice('/parsed'.length);
          handler(req, res);
        });
        return;
      }
      handler(req, res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    await handler?.close();
    dir?.cleanup();
  });

  it('answers a write whose body a parser read first with 500 body_already_read, doing nothing', async () => {
    const response = await fetch(`${base}/parsed/api/failed/retry`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ queue: 'mail' }),
    });
    expect(response.status).toBe(500);
    const body = (await response.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('body_already_read');
    expect(body.error.message).toContain('Mount the dashboard before the body parser');
    // The same write, its body unread, is answered (nothing failed to retry here).
    const direct = await fetch(`${base}/api/failed/retry`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ queue: 'mail' }),
    });
    expect(await direct.json()).toEqual({ retried: 0, skipped: 0 });
  });

  it('answers its API under a prefix it was not told about with a hint to pass basePath', async () => {
    const response = await fetch(`${base}/jobs/api/queues`);
    expect(response.status).toBe(404);
    expect(await response.text()).toContain("pass basePath: '/jobs' to createDashboardHandler");
  });
});
