/**
 * Vitest globalSetup: probes the external services the integration suites need
 * (PostgreSQL and Redis) once per run and hands the result to the test files via
 * `project.provide('services', ...)`; test files read it with `inject('services')`
 * (see test/helpers/services.ts).
 *
 * With CI=true an unreachable service fails the whole run. Locally the affected
 * suites are skipped and a notice is printed to stderr.
 */
import net from 'node:net';
import tls from 'node:tls';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { makeTemplates, type StorageTemplates } from './templates.js';

export interface ServicesInfo {
  pg: boolean;
  redis: boolean;
  pgUrl: string;
  redisUrl: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    services: ServicesInfo;
    templates: StorageTemplates;
  }
}

export const DEFAULT_TEST_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/test';
export const DEFAULT_TEST_REDIS_URL = 'redis://127.0.0.1:6379';
const PROBE_TIMEOUT_MS = 2_000;

export function testDatabaseUrl(): string {
  return process.env.TEST_DATABASE_URL || DEFAULT_TEST_DATABASE_URL;
}

export function testRedisUrl(): string {
  return process.env.TEST_REDIS_URL || DEFAULT_TEST_REDIS_URL;
}

/** `host:port` of a service URL, for messages (never includes credentials). */
export function describeAddress(url: string, defaultPort: number): string {
  try {
    const u = new URL(url);
    const host = u.hostname || '127.0.0.1';
    return `${host}:${u.port || defaultPort}`;
  } catch {
    return '(invalid URL)';
  }
}

/** Human-readable reason out of whatever a failed connection threw. */
export function errorReason(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) {
    // Node reports "localhost" (v4 + v6 attempts) failures as an AggregateError
    // with an empty message.
    return [...new Set(err.errors.map(errorReason))].join('; ');
  }
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    if (err.message) return err.message;
    if (code) return code;
    return err.name;
  }
  return String(err);
}

export type ProbeResult = { ok: true } | { ok: false; reason: string };

export async function probePostgres(
  url: string,
  timeoutMs = PROBE_TIMEOUT_MS,
): Promise<ProbeResult> {
  const client = new pg.Client({
    connectionString: url,
    connectionTimeoutMillis: timeoutMs,
    query_timeout: timeoutMs,
  });
  // An error emitted after connect (e.g. server going away) must not crash the runner.
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SELECT 1');
    return { ok: true };
  } catch (err) {
    return { ok: false, reason: errorReason(err) };
  } finally {
    await client.end().catch(() => {});
  }
}

export type RedisReply = string | number | null | RedisReply[] | RedisErrorReply;

export class RedisErrorReply {
  constructor(readonly message: string) {}
}

/**
 * Minimal RESP parser: returns the reply and the offset after it, or undefined
 * when `buf` does not yet hold a complete reply. Works on bytes: RESP lengths are
 * in bytes, and keys may hold any UTF-8 text.
 */
function parseReply(buf: Buffer, start: number): [RedisReply, number] | undefined {
  const lineEnd = buf.indexOf('\r\n', start);
  if (lineEnd === -1) return undefined;
  const type = String.fromCharCode(buf[start]!);
  const line = buf.toString('utf8', start + 1, lineEnd);
  const next = lineEnd + 2;
  switch (type) {
    case '+':
      return [line, next];
    case '-':
      return [new RedisErrorReply(line), next];
    case ':':
      return [Number(line), next];
    case '$': {
      const len = Number(line);
      if (len < 0) return [null, next];
      if (buf.length < next + len + 2) return undefined;
      return [buf.toString('utf8', next, next + len), next + len + 2];
    }
    case '*': {
      const count = Number(line);
      if (count < 0) return [null, next];
      const items: RedisReply[] = [];
      let offset = next;
      for (let i = 0; i < count; i++) {
        const parsed = parseReply(buf, offset);
        if (!parsed) return undefined;
        items.push(parsed[0]);
        offset = parsed[1];
      }
      return [items, offset];
    }
    default:
      throw new Error(
        `unexpected RESP reply: ${JSON.stringify(buf.toString('utf8', start, start + 40))}`,
      );
  }
}

function encodeCommand(args: string[]): string {
  return `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;
}

/**
 * Sends commands to Redis over a raw socket (no client library needed) and
 * returns one reply per command. Handles AUTH (from the URL's credentials) and
 * SELECT (from its path) first; their replies are not returned. `rediss://` uses TLS.
 */
export function redisCommands(
  url: string,
  commands: string[][],
  timeoutMs = PROBE_TIMEOUT_MS,
): Promise<RedisReply[]> {
  return new Promise((resolve, reject) => {
    let u: URL;
    try {
      u = new URL(url);
    } catch {
      reject(new Error(`invalid Redis URL ${JSON.stringify(url)}`));
      return;
    }
    const host = u.hostname.replace(/^\[|\]$/g, '') || '127.0.0.1';
    const port = Number(u.port || 6379);
    const preamble: string[][] = [];
    if (u.password) {
      const user = decodeURIComponent(u.username);
      const password = decodeURIComponent(u.password);
      preamble.push(user ? ['AUTH', user, password] : ['AUTH', password]);
    }
    const db = u.pathname.replace(/^\//, '');
    if (db) preamble.push(['SELECT', db]);
    const all = [...preamble, ...commands];

    const socket =
      u.protocol === 'rediss:'
        ? tls.connect({ host, port, servername: host })
        : net.connect({ host, port });
    let buffer = Buffer.alloc(0);
    let settled = false;
    const replies: RedisReply[] = [];
    const finish = (err: Error | undefined) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (err) reject(err);
      else resolve(replies.slice(preamble.length));
    };
    const timer = setTimeout(() => finish(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
    socket.once(u.protocol === 'rediss:' ? 'secureConnect' : 'connect', () => {
      socket.write(all.map(encodeCommand).join(''));
    });
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      try {
        let parsed: [RedisReply, number] | undefined;
        while ((parsed = parseReply(buffer, 0))) {
          replies.push(parsed[0]);
          buffer = buffer.subarray(parsed[1]);
          const reply = parsed[0];
          if (replies.length <= preamble.length && reply instanceof RedisErrorReply) {
            finish(new Error(`${all[replies.length - 1]?.[0]} failed: ${reply.message}`));
            return;
          }
        }
      } catch (err) {
        finish(err as Error);
        return;
      }
      if (replies.length >= all.length) finish(undefined);
    });
    socket.on('error', (err) => finish(new Error(errorReason(err))));
    socket.on('close', () => finish(new Error('connection closed before all replies arrived')));
  });
}

export async function probeRedis(url: string, timeoutMs = PROBE_TIMEOUT_MS): Promise<ProbeResult> {
  try {
    const [reply] = await redisCommands(url, [['PING']], timeoutMs);
    if (reply === 'PONG') return { ok: true };
    const shown = reply instanceof RedisErrorReply ? `-${reply.message}` : JSON.stringify(reply);
    return { ok: false, reason: `unexpected reply to PING: ${shown}` };
  } catch (err) {
    return { ok: false, reason: errorReason(err) };
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const pgUrl = testDatabaseUrl();
  const redisUrl = testRedisUrl();
  const [pgResult, redisResult] = await Promise.all([probePostgres(pgUrl), probeRedis(redisUrl)]);

  const failures = [
    {
      name: 'PostgreSQL',
      address: describeAddress(pgUrl, 5432),
      envVar: 'TEST_DATABASE_URL',
      result: pgResult,
    },
    {
      name: 'Redis',
      address: describeAddress(redisUrl, 6379),
      envVar: 'TEST_REDIS_URL',
      result: redisResult,
    },
  ].flatMap((s) => (s.result.ok ? [] : [{ ...s, reason: s.result.reason }]));

  if (failures.length > 0 && process.env.CI === 'true') {
    const lines = failures.map(
      (f) =>
        `${f.name} at ${f.address} is unreachable (${f.reason}); CI requires it ` +
        `(set ${f.envVar} or start the service).`,
    );
    const message = `Required test services are unavailable:\n  ${lines.join('\n  ')}`;
    // Vitest reports a failing globalSetup after an unrelated "No test files found"
    // line, so also print the reason up front.
    process.stderr.write(`\nERROR: ${message}\n\n`);
    throw new Error(message);
  }
  for (const f of failures) {
    process.stderr.write(
      `\nNOTICE: ${f.name} at ${f.address} is unreachable (${f.reason}); ` +
        `the ${f.name} suites will be skipped. Set ${f.envVar} or start it.\n`,
    );
  }

  project.provide('services', { pg: pgResult.ok, redis: redisResult.ok, pgUrl, redisUrl });
  const made = await makeTemplates(pgResult.ok ? pgUrl : null);
  project.provide('templates', made.templates);
  return () => made.remove();
}
