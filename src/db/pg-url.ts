import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { ConfigError } from '../errors.js';

/*
 * DATABASE_URL → node-postgres options, with libpq's meaning of `sslmode`. Every pg client we
 * make (knex's pool, the PostgreSQL queue's settle pool and its LISTEN connection) goes through
 * `pgConnection`, so they all connect the same way.
 *
 * node-postgres gives `sslmode` its own meaning (prefer, require and verify-ca all verify like
 * verify-full) and prints a multi-line SECURITY WARNING for them on every start. We read the
 * TLS parameters ourselves, take them out of the URL pg sees, and pass `ssl` explicitly, so
 * pg neither warns nor re-interprets them.
 */

/** What `pgConnection` returns: spread it into a pg Client, Pool or knex `connection`. */
export interface PgConnection {
  /** DATABASE_URL without the TLS parameters we handle. */
  connectionString: string;
  /** false: no TLS; an object: TLS with these options; absent: no sslmode given. */
  ssl?: false | ConnectionOptions;
  /** libpq's sslnegotiation, passed on when given. */
  sslnegotiation?: 'postgres' | 'direct';
}

export const SSL_MODES = [
  'disable',
  'allow',
  'prefer',
  'require',
  'verify-ca',
  'verify-full',
  'no-verify',
] as const;
export type SslMode = (typeof SSL_MODES)[number];

/** URL parameters read here and removed from the URL pg parses. */
const TLS_PARAMS = [
  'sslmode',
  'ssl',
  'sslrootcert',
  'sslcert',
  'sslkey',
  'sslnegotiation',
  'uselibpqcompat',
];

/**
 * Builds pg options from a PostgreSQL URL. `sslmode` (from the URL, else PGSSLMODE) means:
 *
 * - `disable`, `allow`: no TLS (libpq's `allow` tries without TLS first; node-postgres cannot
 *   retry with it, so a server that demands TLS refuses the connection).
 * - `prefer`, `require`, `no-verify`: TLS, certificate not verified; a server without TLS is an
 *   error (node-postgres cannot fall back to a plain connection, so `prefer` acts as
 *   `require`). With `sslrootcert`, `require` verifies the chain, as libpq does.
 * - `verify-ca`: TLS, chain verified against `sslrootcert` (or Node's trusted CAs when it is
 *   absent or `system`), host name not checked.
 * - `verify-full`: as verify-ca, and the certificate must name the host.
 *
 * `ssl=true` (node-postgres' own parameter) means verify-full, `ssl=false` disable.
 * `sslcert`/`sslkey` give a client certificate. Files are read here.
 *
 * @throws ConfigError for an unknown sslmode or a TLS file that cannot be read; the message
 *   names DATABASE_URL and the parameter.
 */
export function pgConnection(
  url: string,
  env: Record<string, string | undefined> = process.env,
): PgConnection {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // Not a URL we can read (a socket path...): leave it all to pg.
    return { connectionString: url };
  }
  const params = parsed.searchParams;
  const get = (name: string) => params.get(name) ?? undefined;
  const mode = sslModeOf(get('sslmode'), get('ssl'), env.PGSSLMODE);
  const files = { ca: get('sslrootcert'), cert: get('sslcert'), key: get('sslkey') };
  const sslnegotiation = negotiationOf(get('sslnegotiation'));
  for (const name of TLS_PARAMS) params.delete(name);

  const result: PgConnection = { connectionString: parsed.toString() };
  if (sslnegotiation !== undefined) result.sslnegotiation = sslnegotiation;
  if (mode === undefined) return result;
  if (mode === 'disable' || mode === 'allow') return { ...result, ssl: false };

  const ssl: ConnectionOptions = {};
  const ca = files.ca && files.ca !== 'system' ? readTlsFile('sslrootcert', files.ca) : undefined;
  if (ca) ssl.ca = ca;
  if (files.cert) ssl.cert = readTlsFile('sslcert', files.cert);
  if (files.key) ssl.key = readTlsFile('sslkey', files.key);
  const verifyChain = mode === 'verify-ca' || mode === 'verify-full' || (mode === 'require' && ca);
  if (!verifyChain) ssl.rejectUnauthorized = false;
  else if (mode !== 'verify-full') ssl.checkServerIdentity = () => undefined;
  return { ...result, ssl };
}

function sslModeOf(
  sslmode: string | undefined,
  ssl: string | undefined,
  fromEnv: string | undefined,
): SslMode | undefined {
  const check = (value: string, setting: string): SslMode => {
    if ((SSL_MODES as readonly string[]).includes(value)) return value as SslMode;
    throw new ConfigError(
      `Invalid configuration: ${setting} is not valid; expected one of: ${SSL_MODES.join(', ')}.`,
      { hint: 'Fix sslmode (see "PostgreSQL over TLS" in docs/operations.md).' },
    );
  };
  if (sslmode !== undefined) return check(sslmode, `sslmode="${sslmode}" in DATABASE_URL`);
  if (ssl !== undefined) return ['true', '1'].includes(ssl) ? 'verify-full' : 'disable';
  if (fromEnv) return check(fromEnv, `PGSSLMODE="${fromEnv}"`);
  return undefined;
}

function negotiationOf(value: string | undefined): PgConnection['sslnegotiation'] {
  if (value === undefined || value === 'postgres' || value === 'direct') return value;
  throw new ConfigError(
    `Invalid configuration: sslnegotiation="${value}" in DATABASE_URL is not valid; expected one of: postgres, direct.`,
    { hint: 'Fix sslnegotiation in DATABASE_URL.' },
  );
}

function readTlsFile(param: string, file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new ConfigError(
      `Invalid configuration: DATABASE_URL has ${param}=${file}, which cannot be read (${code}).`,
      { hint: `Point ${param} at a readable PEM file.`, cause: error },
    );
  }
}

/**
 * The reason and hint for a failed connection that TLS explains, or undefined. Node and pg say
 * "The server does not support SSL connections" or name the certificate problem; these say
 * which sslmode asked for it and what to change.
 */
export function tlsFailure(
  url: string,
  error: unknown,
  env: Record<string, string | undefined> = process.env,
): { reason: string; hint: string } | undefined {
  const message = error instanceof Error ? error.message : String(error);
  let params = new URLSearchParams();
  try {
    params = new URL(url).searchParams;
  } catch {
    // Not a URL: only PGSSLMODE can have asked for TLS.
  }
  const asked = params.has('sslmode')
    ? `sslmode=${params.get('sslmode')} in DATABASE_URL`
    : params.has('ssl')
      ? `ssl=${params.get('ssl')} in DATABASE_URL`
      : env.PGSSLMODE
        ? `PGSSLMODE=${env.PGSSLMODE}`
        : 'the TLS settings';
  if (/does not support SSL/i.test(message)) {
    return {
      reason: `the server does not support TLS, but ${asked} requires it`,
      hint: 'Enable ssl on the server, or set sslmode=disable in DATABASE_URL for a connection without TLS.',
    };
  }
  const code = (error as { code?: string }).code ?? '';
  if (/^(ERR_TLS_|DEPTH_ZERO|SELF_SIGNED|UNABLE_TO_|CERT_)/.test(code)) {
    return {
      reason: `the server's TLS certificate was refused (${message}); ${asked} verifies it`,
      hint: 'Give the CA that signed the server certificate with sslrootcert=/path/to/ca.pem in DATABASE_URL, or use sslmode=require to encrypt without verifying.',
    };
  }
  return undefined;
}
