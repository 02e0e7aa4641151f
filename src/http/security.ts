import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import type { DashboardDeps } from './context.js';
import { errorBody } from './errors.js';

/*
 * The dashboard's two guards (docs/dashboard.md, "Security"):
 * - DASHBOARD_TOKEN: when set, every request (pages and API) carries it, as
 *   `Authorization: Bearer <token>` or as the password of basic auth (any user name: a browser
 *   asks for it with its own dialog). Else 401 with `WWW-Authenticate: Basic realm="jobsmith"`.
 * - Host: without DASHBOARD_TOKEN, only requests addressed to this machine by name (Host
 *   127.x.x.x, localhost, [::1]) or to a host the app allowed are answered. A site of any domain
 *   can point its name at 127.0.0.1 (DNS rebinding) and then read and write the dashboard as
 *   "same origin": the Host it sends is its own name, which is how it is told apart.
 * - CSRF: a write from a browser (it sends `Origin` or `Sec-Fetch-Site`) carries the header
 *   `X-CSRF-Token` with the token GET /api/session gives, and comes from the dashboard's own
 *   host. A page of another site can send neither: reading /api/session needs CORS, which the
 *   dashboard never grants, and a custom header makes the browser ask first (a preflight that
 *   is not answered). Scripts and servers send no Origin: a token is their guard.
 */

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** The CSRF token of one dashboard: random, per process (and per handler), never stored. */
const csrfTokens = new WeakMap<DashboardDeps, string>();

/** The value a browser's POSTs carry in X-CSRF-Token; GET /api/session gives it to the page. */
export function csrfToken(deps: DashboardDeps): string {
  let token = csrfTokens.get(deps);
  if (token === undefined) {
    token = randomBytes(32).toString('base64url');
    csrfTokens.set(deps, token);
  }
  return token;
}

/** Equal strings, compared in a time that does not depend on where they differ. */
export function sameSecret(given: string, expected: string): boolean {
  // Digests have one length, so timingSafeEqual neither throws nor tells the length apart.
  const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();
  return timingSafeEqual(digest(given), digest(expected));
}

/** The token a request carries: a bearer token, or the password of basic auth. */
export function presentedToken(authorization: string | undefined): string | undefined {
  const [scheme, value] = authorizationParts(authorization);
  if (!scheme || !value) return undefined;
  if (scheme === 'bearer') return value;
  return scheme === 'basic' ? basicCredentials(value)?.password : undefined;
}

/** The user name of basic auth, if the request sent one (not checked: any name goes with the token). */
export function basicUser(authorization: string | undefined): string | undefined {
  const [scheme, value] = authorizationParts(authorization);
  if (scheme !== 'basic' || !value) return undefined;
  const user = basicCredentials(value)?.user.trim();
  return user ? user : undefined;
}

/** An Authorization header's scheme (lower case) and value. */
function authorizationParts(authorization: string | undefined): [string?, string?] {
  if (!authorization) return [];
  const [scheme, value] = authorization.trim().split(/\s+/, 2);
  return [scheme?.toLowerCase(), value];
}

/** Basic auth's `user:password`, base64-decoded; undefined without the colon. */
function basicCredentials(value: string): { user: string; password: string } | undefined {
  const decoded = Buffer.from(value, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0
    ? undefined
    : { user: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** 401 unless the request carries `token` (see the top of this file); nothing when no token. */
export function requireToken(token: string | undefined): MiddlewareHandler {
  return async (c, next) => {
    if (token === undefined) return next();
    const given = presentedToken(c.req.header('authorization'));
    if (given !== undefined && sameSecret(given, token)) return next();
    c.header('WWW-Authenticate', 'Basic realm="jobsmith", charset="UTF-8"');
    const message =
      given === undefined
        ? 'This dashboard needs its token (DASHBOARD_TOKEN): send Authorization: Bearer <token>, or basic auth with the token as password.'
        : 'The token is wrong: send the DASHBOARD_TOKEN the dashboard was started with.';
    return c.json(errorBody('unauthorized', message), 401);
  };
}

/** Host names a loopback address or localhost (`localhost`, `x.localhost`, 127.0.0.0/8, ::1). */
export function isLoopbackHost(hostname: string): boolean {
  const name = hostname
    .toLowerCase()
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '');
  return (
    name === 'localhost' ||
    name.endsWith('.localhost') ||
    name === '::1' ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name)
  );
}

/**
 * Without a token: 403 `host_not_allowed` unless the request's Host is loopback or one of
 * `allowedHosts` (names, compared without the port, case-insensitively). With a token, nothing:
 * the token is the guard, and a rebinding page cannot send it.
 */
export function requireKnownHost(
  token: string | undefined,
  allowedHosts: readonly string[] = [],
): MiddlewareHandler {
  const allowed = new Set(allowedHosts.map((h) => h.toLowerCase()));
  return async (c, next) => {
    if (token !== undefined) return next();
    // A Fetch-API request (the handler's fetch) carries its host in the URL, not in a header.
    const host = c.req.header('host') ?? new URL(c.req.url).host;
    let hostname: string;
    try {
      hostname = new URL(`http://${host}`).hostname;
    } catch {
      hostname = '';
    }
    if (hostname !== '' && (isLoopbackHost(hostname) || allowed.has(hostname.toLowerCase()))) {
      return next();
    }
    const message = `This dashboard has no DASHBOARD_TOKEN, so it answers only requests addressed to this machine (127.0.0.1, localhost, [::1]); this one was addressed to "${host.slice(0, 100)}". Set DASHBOARD_TOKEN, or list the name in createDashboardHandler({ allowedHosts }).`;
    return c.json(errorBody('host_not_allowed', message), 403);
  };
}

/** 403 `csrf` for a browser's write without the CSRF token or from another host. */
export function requireCsrf(deps: DashboardDeps): MiddlewareHandler {
  return async (c, next) => {
    if (SAFE_METHODS.has(c.req.method)) return next();
    const origin = c.req.header('origin');
    const fetchSite = c.req.header('sec-fetch-site');
    if (origin === undefined && fetchSite === undefined) return next();
    const problem = csrfProblem(c, deps, origin, fetchSite);
    if (problem === undefined) return next();
    return c.json(errorBody('csrf', problem), 403);
  };
}

function csrfProblem(
  c: Context,
  deps: DashboardDeps,
  origin: string | undefined,
  fetchSite: string | undefined,
): string | undefined {
  if (fetchSite !== undefined && fetchSite !== 'same-origin' && fetchSite !== 'none') {
    return `A write from another site (Sec-Fetch-Site: ${fetchSite}) is refused: use the dashboard's own pages.`;
  }
  if (origin === undefined || !sameHost(origin, c)) {
    return `A write from a browser must come from the dashboard's own host (Origin: ${origin ?? 'none'}).`;
  }
  const given = c.req.header('x-csrf-token');
  if (given === undefined || !sameSecret(given, csrfToken(deps))) {
    return 'A write from a browser must carry the header X-CSRF-Token with the csrfToken of GET /api/session; reload the page.';
  }
  return undefined;
}

/** The Origin names the host the request was sent to (directly, or through a proxy). */
function sameHost(origin: string, c: Context): boolean {
  let host: string;
  try {
    host = new URL(origin).host;
  } catch {
    return false;
  }
  const targets = [c.req.header('x-forwarded-host'), c.req.header('host'), new URL(c.req.url).host];
  return targets.some(
    (t) => t !== undefined && t.split(',')[0]!.trim().toLowerCase() === host.toLowerCase(),
  );
}
