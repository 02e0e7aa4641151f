/*
 * The PostgreSQL queue's statement plumbing: prepared statements by name, the settle pool's
 * session settings, array literals, and the pending batch of completions (and at most one
 * claim) that PostgresQueue.coalesce sends in one round trip.
 */
import type pg from 'pg';
import type { Lease } from '../driver.js';
import { numbered, SQL } from './postgres-sql.js';

export type Row = Record<string, unknown>;

/** Completions and at most one claim for the next flush (PostgresQueue.coalesce). */
export interface PendingSettle {
  leases: Lease[];
  claim?: { queue: string; limit: number; leaseMs: number; token: string };
  scheduled: boolean;
  result: { promise: Promise<Row[]>; resolve(rows: Row[]): void; reject(e: unknown): void };
}

export function newPendingSettle(): PendingSettle {
  let resolve!: (rows: Row[]) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<Row[]>((res, rej) => ((resolve = res), (reject = rej)));
  // A flush nobody waits for (all callers gone) must not be an unhandled rejection.
  promise.catch(() => {});
  return { leases: [], scheduled: false, result: { promise, resolve, reject } };
}

/** Session settings of the settle pool; see PostgresQueue.settlePool. */
export const SETTLE_SESSION = [
  'synchronous_commit=off',
  'plan_cache_mode=force_generic_plan',
  'enable_seqscan=off',
  'enable_bitmapscan=off',
]
  .map((setting) => `-c ${setting}`)
  .join(' ');

/** Job ids (digits) and claim tokens (UUIDs): nothing in them needs quoting in an array literal. */
const UNQUOTED = /^[0-9a-f-]+$/i;

/**
 * `{a,b,c}`, an array literal PostgreSQL casts with `::bigint[]` or `::text[]`, when every
 * value is an id or a token; anything else goes as an array for pg to quote. pg's own array
 * serialiser escapes element by element: a tenth of a prefetching worker's CPU.
 */
export function arrayLiteral(values: string[]): string | string[] {
  for (const v of values) if (!UNQUOTED.test(v)) return values;
  return `{${values.join(',')}}`;
}

const PREPARED = Object.fromEntries(
  Object.entries(SQL).map(([k, v]) => [k, numbered(v)]),
) as Record<keyof typeof SQL, string>;

export function prepared(name: keyof typeof SQL, values: unknown[]): pg.QueryConfig {
  return { name: `jobsmith_${name}`, text: PREPARED[name], values };
}
