/*
 * 405 Method Not Allowed for the API: a request whose path is an endpoint's but whose method is
 * not (a GET of a POST-only action, a DELETE anywhere) is told which methods the path takes, in
 * the `Allow` header and the message (RFC 9110 §15.5.6), instead of a 404 that reads as if the
 * path were wrong.
 */
import type { Hono } from 'hono';

/** One API path pattern (`/api/jobs/:id`) and the methods registered for it. */
interface PathMethods {
  pattern: RegExp;
  methods: Set<string>;
}

/**
 * Reads the endpoints registered on `app` under `prefix` (its routes, middleware and the pages'
 * catch-all excluded) and returns a
 * function that answers the methods a path takes: an empty list when no endpoint has the path.
 * HEAD is allowed wherever GET is, as Hono answers it.
 */
export function allowedMethods(app: Hono, prefix: string): (path: string) => string[] {
  const byPath = new Map<string, PathMethods>();
  for (const route of app.routes) {
    if (route.method === 'ALL' || !route.path.startsWith(prefix)) continue;
    let entry = byPath.get(route.path);
    if (!entry) {
      entry = { pattern: patternOf(route.path), methods: new Set() };
      byPath.set(route.path, entry);
    }
    entry.methods.add(route.method);
    if (route.method === 'GET') entry.methods.add('HEAD');
  }
  const entries = [...byPath.values()];
  return (path) => {
    const methods = new Set<string>();
    for (const entry of entries) {
      if (entry.pattern.test(path)) for (const m of entry.methods) methods.add(m);
    }
    return [...methods].sort();
  };
}

/** `/api/jobs/:id` → /^\/api\/jobs\/[^/]+$/ (a `:name` is one path segment; `*` any rest). */
function patternOf(path: string): RegExp {
  const source = path
    .split('/')
    .map((part) =>
      part.startsWith(':')
        ? '[^/]+'
        : part === '*'
          ? '.*'
          : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
    )
    .join('/');
  return new RegExp(`^${source}/?$`);
}
