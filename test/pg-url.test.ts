import { writeFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { pgConnection, tlsFailure } from '../src/db/pg-url.js';
import { ConfigError } from '../src/errors.js';
import { runCli } from './helpers/cli.js';
import { appEnv } from './helpers/env.js';
import {
  createTestDatabase,
  describePg,
  tempDir,
  type TempDir,
  type TestDatabase,
} from './helpers/services.js';
import {
  HANDSHAKE_DONE,
  startTlsEndpoint,
  TLS_FIXTURES,
  type TlsEndpoint,
} from './helpers/tls-endpoint.js';

const CA = path.join(TLS_FIXTURES, 'ca.pem');
const OTHER_CA = path.join(TLS_FIXTURES, 'other-ca.pem');
const NO_ENV = {};

describe('pgConnection: DATABASE_URL to node-postgres options', () => {
  it('takes the TLS parameters out of the URL and keeps the rest', () => {
    const result = pgConnection(
      'postgres://app:pw@db:5432/app?sslmode=disable&application_name=jobs&uselibpqcompat=true',
      NO_ENV,
    );
    expect(result).toEqual({
      connectionString: 'postgres://app:pw@db:5432/app?application_name=jobs',
      ssl: false,
    });
  });

  it('leaves ssl unset when neither the URL nor PGSSLMODE names a mode', () => {
    expect(pgConnection('postgres://db/app', NO_ENV)).toEqual({
      connectionString: 'postgres://db/app',
    });
  });

  it('gives each sslmode its libpq meaning', () => {
    const ssl = (query: string) => pgConnection(`postgres://db/app?${query}`, NO_ENV).ssl;
    expect(ssl('sslmode=disable')).toBe(false);
    expect(ssl('sslmode=allow')).toBe(false);
    expect(ssl('sslmode=prefer')).toEqual({ rejectUnauthorized: false });
    expect(ssl('sslmode=require')).toEqual({ rejectUnauthorized: false });
    expect(ssl('sslmode=no-verify')).toEqual({ rejectUnauthorized: false });
    expect(ssl('sslmode=verify-full')).toEqual({});
    expect(ssl('ssl=true')).toEqual({});
    expect(ssl('ssl=0')).toBe(false);
    const verifyCa = ssl('sslmode=verify-ca');
    expect(verifyCa).toEqual({ checkServerIdentity: expect.any(Function) });
    // require with a root certificate verifies the chain, as in libpq.
    const requireCa = ssl(`sslmode=require&sslrootcert=${CA}`) as { ca: string };
    expect(requireCa).toEqual({
      ca: expect.any(String),
      checkServerIdentity: expect.any(Function),
    });
    expect(requireCa.ca).toContain('BEGIN CERTIFICATE');
    expect(ssl('sslmode=verify-full&sslrootcert=system')).toEqual({});
  });

  it('reads PGSSLMODE when the URL names no sslmode; the URL wins', () => {
    expect(pgConnection('postgres://db/app', { PGSSLMODE: 'require' }).ssl).toEqual({
      rejectUnauthorized: false,
    });
    expect(pgConnection('postgres://db/app?sslmode=disable', { PGSSLMODE: 'require' }).ssl).toBe(
      false,
    );
  });

  it('refuses an unknown sslmode and an unreadable sslrootcert, naming them', () => {
    const refused = (() => {
      try {
        pgConnection('postgres://db/app?sslmode=on', NO_ENV);
      } catch (error) {
        return error as ConfigError;
      }
    })();
    expect(refused).toBeInstanceOf(ConfigError);
    expect(refused?.message).toBe(
      'Invalid configuration: sslmode="on" in DATABASE_URL is not valid; expected one of: ' +
        'disable, allow, prefer, require, verify-ca, verify-full, no-verify.',
    );
    expect(refused?.hint).toBe('Fix sslmode (see "PostgreSQL over TLS" in docs/operations.md).');
    expect(() => pgConnection('postgres://db/app', { PGSSLMODE: 'strict' })).toThrow(
      'Invalid configuration: PGSSLMODE="strict" is not valid;',
    );
    expect(() =>
      pgConnection('postgres://db/app?sslmode=verify-ca&sslrootcert=/nowhere/ca.pem', NO_ENV),
    ).toThrow(
      'Invalid configuration: DATABASE_URL has sslrootcert=/nowhere/ca.pem, which cannot be read (ENOENT).',
    );
  });
});

/**
 * Connects a real pg client with pgConnection(url) and says how far it got: 'accepted' when
 * the TLS handshake succeeded (the endpoint's FATAL after it), else the client's error.
 */
async function handshake(url: string): Promise<string> {
  const client = new pg.Client({ ...pgConnection(url, NO_ENV), connectionTimeoutMillis: 5000 });
  client.on('error', () => {});
  try {
    await client.connect();
    return 'connected';
  } catch (error) {
    const message = (error as Error).message;
    if (message === HANDSHAKE_DONE) return 'accepted';
    return tlsFailure(url, error, NO_ENV)?.reason ?? `other: ${message}`;
  } finally {
    await client.end().catch(() => {});
  }
}

describe('sslmode against a TLS server (certificate signed by a test CA)', () => {
  let byIp: TlsEndpoint;
  let byName: TlsEndpoint;
  beforeAll(async () => {
    byIp = await startTlsEndpoint('ip'); // SAN IP:127.0.0.1, so the host name matches
    byName = await startTlsEndpoint('name'); // SAN DNS:db.example.test, so it does not
  });
  afterAll(async () => {
    await byIp?.close();
    await byName?.close();
  });
  const url = (endpoint: TlsEndpoint, query: string) =>
    `postgres://postgres@127.0.0.1:${endpoint.port}/test?${query}`;

  it('require and prefer encrypt without verifying the certificate', async () => {
    expect(await handshake(url(byName, 'sslmode=require'))).toBe('accepted');
    expect(await handshake(url(byName, 'sslmode=prefer'))).toBe('accepted');
  });

  it('verify-full checks the chain and the host name', async () => {
    expect(await handshake(url(byIp, 'sslmode=verify-full'))).toBe(
      "the server's TLS certificate was refused (unable to verify the first certificate); " +
        'sslmode=verify-full in DATABASE_URL verifies it',
    );
    expect(await handshake(url(byIp, `sslmode=verify-full&sslrootcert=${CA}`))).toBe('accepted');
    expect(await handshake(url(byName, `sslmode=verify-full&sslrootcert=${CA}`))).toBe(
      "the server's TLS certificate was refused (Hostname/IP does not match certificate's altnames: " +
        "IP: 127.0.0.1 is not in the cert's list: ); sslmode=verify-full in DATABASE_URL verifies it",
    );
  });

  it('verify-ca, and require with a root certificate, check the chain but not the host name', async () => {
    expect(await handshake(url(byName, `sslmode=verify-ca&sslrootcert=${CA}`))).toBe('accepted');
    expect(await handshake(url(byName, `sslmode=require&sslrootcert=${CA}`))).toBe('accepted');
    expect(await handshake(url(byName, `sslmode=verify-ca&sslrootcert=${OTHER_CA}`))).toMatch(
      /^the server's TLS certificate was refused \(.+\); sslmode=verify-ca in DATABASE_URL verifies it$/,
    );
    expect(await handshake(url(byName, `sslmode=require&sslrootcert=${OTHER_CA}`))).toMatch(
      /^the server's TLS certificate was refused/,
    );
  });
});

describePg('sslmode with a real command against the local server (no TLS)', () => {
  let database: TestDatabase;
  let dir: TempDir;
  beforeEach(async () => {
    database = await createTestDatabase();
    dir = tempDir('jobsmith-pg-url-');
  });
  afterEach(async () => {
    dir.cleanup();
    await database.drop();
  });
  const withQuery = (query: string) => `${database.url}?${query}`;
  const run = (args: string[], env: Record<string, string>) =>
    runCli(args, { cwd: dir.path, env: appEnv({ DB_CONNECTION: 'pgsql', ...env }) });

  it('sslmode=disable connects, and no command prints a warning', async () => {
    writeFileSync(
      path.join(dir.path, 'jobsmith.config.ts'),
      "import { defineConfig, defineJob } from 'jobsmith';\n" +
        "export default defineConfig({ jobs: [defineJob({ name: 'noop', async handle() {} })] });\n",
    );
    const env = { DATABASE_URL: withQuery('sslmode=disable') };
    const dispatched = await run(['queue:dispatch', 'noop', '--payload', '{}'], env);
    expect(dispatched.stderr).toBe('');
    expect(dispatched.code).toBe(0);
    // The worker uses knex's pool, the settle pool and the LISTEN connection.
    const work = await run(['queue:work', '--stop-when-empty'], env);
    expect(work.code, work.stderr).toBe(0);
    expect(work.stdout).toMatch(/noop/);
    expect(work.stdout + work.stderr).not.toMatch(/warning/i);
  });

  it('sslmode=require refuses a server without TLS, says why and how to fix it; no warning', async () => {
    for (const mode of ['require', 'verify-full']) {
      const url = withQuery(`sslmode=${mode}`);
      const result = await run(['migrate:status'], { DATABASE_URL: url });
      expect(result.code).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr).toBe(
        `Error: Cannot connect to PostgreSQL at ${url}: the server does not support TLS, ` +
          `but sslmode=${mode} in DATABASE_URL requires it.\n` +
          'Enable ssl on the server, or set sslmode=disable in DATABASE_URL for a connection without TLS.\n',
      );
    }
  });

  it('PGSSLMODE applies when the URL names no sslmode', async () => {
    const result = await run(['migrate:status'], {
      DATABASE_URL: database.url,
      PGSSLMODE: 'require',
    });
    expect(result.code).toBe(1);
    expect(result.stderr.split('\n')[0]).toBe(
      `Error: Cannot connect to PostgreSQL at ${database.url}: the server does not support TLS, ` +
        'but PGSSLMODE=require requires it.',
    );
  });
});
