import { readFile, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import type { Context, Handler } from 'hono';
import { packageRoot } from '../util/package.js';

/**
 * The dashboard's pages: the files vite built into dist/ui/ (`npm run build`), served at
 * `{base}/`. The page routes by its hash (`#/failed`) and loads its assets by relative URLs,
 * so one index.html answers `{base}/` whatever the base.
 */

/** Where the built pages are: dist/ui/ of the package, whether run from src/ or dist/src/. */
export function pagesDir(): string {
  return path.join(packageRoot(), 'dist', 'ui');
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

/** Vite's hashed file names (`assets/index-BbiljHP5.js`): their content never changes. */
const HASHED_ASSET = /^assets\/[^/]+-[A-Za-z0-9_-]{8,}\.[a-z0-9]+$/;

/**
 * The page's only sources are its own files and API; uPlot and Preact set styles through the
 * DOM, which style-src does not restrict.
 */
const PAGE_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
  "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'self'";

/**
 * GET `{basePath}/*`: index.html for `{basePath}/`, else the built file of that path. Paths under
 * `{basePath}/api` are left to the API's not-found answer. `dir` is for tests.
 */
export function servePages(basePath: string, dir = pagesDir()): Handler {
  return async (c) => {
    const full = c.req.path;
    if (full === `${basePath}/api` || full.startsWith(`${basePath}/api/`)) return c.notFound();
    // `/jobs` → `/jobs/`: relative asset and API URLs resolve against the folder.
    if (basePath && full === basePath) {
      const search = new URL(c.req.url).search;
      return c.redirect(`${basePath}/${search}`, 301);
    }
    const relative = full.slice(basePath.length).replace(/^\/+/, '') || 'index.html';
    if (!(await isFile(path.join(dir, 'index.html')))) return notBuilt(c, dir);
    const file = path.resolve(dir, relative);
    if (!file.startsWith(dir + path.sep) || relative.split('/').some((p) => p.startsWith('.'))) {
      return c.notFound();
    }
    if (!(await isFile(file))) return c.notFound();
    const type = CONTENT_TYPES[path.extname(file)] ?? 'application/octet-stream';
    const headers: Record<string, string> = {
      'Content-Type': type,
      'X-Content-Type-Options': 'nosniff',
      'Cache-Control': HASHED_ASSET.test(relative)
        ? 'public, max-age=31536000, immutable'
        : // index.html names the current assets: always asked again (a 304 is cheap).
          'no-cache',
    };
    if (type.startsWith('text/html')) headers['Content-Security-Policy'] = PAGE_CSP;
    return c.body(new Uint8Array(await readFile(file)), 200, headers);
  };
}

async function isFile(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}

/** What `{base}/` says when the package's pages were never built (a clone before its build). */
function notBuilt(c: Context, dir: string): Response {
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>jobsmith: pages not built</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40em; margin: 3em auto">
<h1>The dashboard's pages are not built</h1>
<p>${escapeHtml(dir)} holds no index.html. Build them in the jobsmith package's folder:</p>
<pre>npm run build</pre>
<p>(<code>npm install</code> in a clone runs it too.) The JSON API works meanwhile:
<a href="api/session">api/session</a>.</p>
</body></html>`;
  return c.body(html, 503, {
    'Content-Type': 'text/html; charset=utf-8',
    'Cache-Control': 'no-store',
  });
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/**
 * Mounted (`app.use('/jobs', handler)` in Express), the handler sees `/` for both `/jobs` and
 * `/jobs/`; only the first breaks the page's relative URLs. Express keeps the full URL in
 * `originalUrl`: answer a redirect to the slashed form. True when it answered.
 */
export function redirectMountRoot(req: IncomingMessage, res: ServerResponse): boolean {
  const original = (req as IncomingMessage & { originalUrl?: string }).originalUrl;
  if (!original || (req.method !== 'GET' && req.method !== 'HEAD')) return false;
  const [mounted = '/'] = (req.url ?? '/').split('?', 1);
  const [originalPath = '', search] = original.split(/\?(.*)/s, 2);
  // `//host` would be a redirect to another site.
  if (mounted !== '/' || !/^\/[^/]/.test(originalPath) || originalPath.endsWith('/')) return false;
  res.writeHead(301, { Location: `${originalPath}/${search ? `?${search}` : ''}` });
  res.end();
  return true;
}
