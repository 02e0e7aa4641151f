/**
 * The built pages served at `{base}/` (src/http/static.ts): content types, cache headers, the
 * page that says how to build when dist/ui is missing, nothing outside dist/ui, and the
 * redirect that keeps relative URLs working when mounted at `/jobs`.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redirectMountRoot, servePages } from '../../src/http/static.js';
import { tempDir } from '../helpers/services.js';

const dir = tempDir('jobsmith-static-');
const pages = path.join(dir.path, 'ui');

function site(basePath: string, folder = pages): Hono {
  const root = new Hono().basePath(basePath || '/');
  root.get('/api/session', (c) => c.json({ ok: true }));
  root.get('/*', servePages(basePath, folder));
  root.notFound((c) => c.text(`not found ${c.req.path}`, 404));
  return root;
}

const get = (app: Hono, url: string) => app.fetch(new Request(`http://127.0.0.1${url}`));

beforeAll(() => {
  mkdirSync(path.join(pages, 'assets'), { recursive: true });
  writeFileSync(path.join(pages, 'index.html'), '<!doctype html><title>jobsmith</title>');
  writeFileSync(path.join(pages, 'assets/index-BbiljHP5.js'), 'console.log(1)');
  writeFileSync(path.join(pages, 'assets/index-BgP9ONdK.css'), 'body{}');
  writeFileSync(path.join(dir.path, 'secret.txt'), 'outside');
  writeFileSync(path.join(pages, '.hidden'), 'outside');
});
afterAll(() => dir.cleanup());

describe('servePages', () => {
  it.each(['', '/jobs'])(
    'answers index.html at "%s/", never cached without asking',
    async (base) => {
      const response = await get(site(base), `${base}/`);
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(response.headers.get('cache-control')).toBe('no-cache');
      expect(response.headers.get('content-security-policy')).toContain("script-src 'self'");
      expect(await response.text()).toContain('<title>jobsmith</title>');
    },
  );

  it('serves hashed assets with their type, cached for good', async () => {
    const js = await get(site('/jobs'), '/jobs/assets/index-BbiljHP5.js');
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(js.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(js.headers.get('x-content-type-options')).toBe('nosniff');
    const css = await get(site('/jobs'), '/jobs/assets/index-BgP9ONdK.css');
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
  });

  it('redirects the base path without its slash to the folder, keeping the query', async () => {
    const response = await get(site('/jobs'), '/jobs?x=1');
    expect(response.status).toBe(301);
    expect(response.headers.get('location')).toBe('/jobs/?x=1');
  });

  it('answers 404 for files it does not have, dotfiles and paths out of the folder', async () => {
    const urls = [
      '/jobs/nope.js',
      '/jobs/.hidden',
      '/jobs/..%2fsecret.txt',
      '/jobs/%2e%2e/secret.txt',
    ];
    for (const url of urls) {
      const response = await get(site('/jobs'), url);
      expect(response.status, url).toBe(404);
      expect(await response.text()).not.toContain('outside');
    }
  });

  it('leaves API paths to the API, including unknown ones', async () => {
    expect(await (await get(site('/jobs'), '/jobs/api/session')).json()).toEqual({ ok: true });
    const unknown = await get(site('/jobs'), '/jobs/api/nope');
    expect(unknown.status).toBe(404);
    expect(await unknown.text()).toBe('not found /jobs/api/nope');
  });

  it('says how to build the pages when dist/ui is missing', async () => {
    const response = await get(site('', path.join(dir.path, 'missing')), '/');
    expect(response.status).toBe(503);
    expect(response.headers.get('cache-control')).toBe('no-store');
    const text = await response.text();
    expect(text).toContain("The dashboard's pages are not built");
    expect(text).toContain('npm run build');
  });
});

describe('redirectMountRoot', () => {
  // What Express does for app.use('/jobs', handler): req.url without the mount path.
  async function mounted(originalUrl: string, url: string) {
    const server = http.createServer((req, res) => {
      Object.assign(req, { originalUrl, url });
      if (!redirectMountRoot(req, res)) res.end('handler');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const response = await fetch(`http://127.0.0.1:${port}/`, { redirect: 'manual' });
      return { status: response.status, location: response.headers.get('location') };
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  }

  it('sends /jobs to /jobs/ and leaves /jobs/ and deeper paths alone', async () => {
    expect(await mounted('/jobs?a=b', '/?a=b')).toEqual({ status: 301, location: '/jobs/?a=b' });
    expect((await mounted('/jobs/', '/')).status).toBe(200);
    expect((await mounted('/jobs/assets/x.js', '/assets/x.js')).status).toBe(200);
  });

  it('never redirects to another host', async () => {
    expect((await mounted('//evil.example', '/')).status).toBe(200);
  });
});
