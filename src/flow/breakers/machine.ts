/*
 * The breaker's state machine as pure functions over one stored row, for a store that decides
 * in JavaScript inside a transaction (SQLite). PostgreSQL (postgres.ts) and Redis (redis.ts)
 * make the same decisions in SQL and Lua; the conformance suite holds all three to them.
 */
import type { BreakerSettings } from './settings.js';
import {
  HALF_OPEN_WAIT_MS,
  type Admission,
  type BreakerOutcome,
  type BreakerState,
  type BreakerStatus,
  type BreakerTransition,
} from './store.js';

/** A stored breaker; times are epoch milliseconds of the storage's clock. */
export interface BreakerRow {
  name: string;
  state: BreakerState;
  failures: number;
  windowStartedAt: number | null;
  /** The window the failures were counted with, for listing. */
  windowMs: number | null;
  openedAt: number | null;
  /** Open: the end of the cooldown. Half-open: the end of the probe's lease. */
  until: number | null;
  probeToken: string | null;
}

/** The row to write (none when unchanged) and the answer. */
export interface AdmitStep {
  admission: Admission;
  write?: BreakerRow;
}

export function admitStep(
  row: BreakerRow | undefined,
  now: number,
  s: BreakerSettings,
  token: string,
): AdmitStep {
  if (!row || row.state === 'closed') return { admission: { run: true } };
  const until = row.until ?? 0;
  if (now < until) {
    return row.state === 'open'
      ? { admission: { run: false, retryAfterMs: until - now, state: 'open' } }
      : {
          admission: {
            run: false,
            retryAfterMs: Math.min(until - now, HALF_OPEN_WAIT_MS),
            state: 'half-open',
          },
        };
  }
  // The cooldown ended, or the last probe's lease did: this job probes.
  return {
    admission: { run: true, probe: token },
    write: { ...row, state: 'half-open', until: now + s.probeLeaseMs, probeToken: token },
  };
}

export interface RecordStep {
  transition?: BreakerTransition;
  write?: BreakerRow;
}

export function recordStep(
  row: BreakerRow | undefined,
  now: number,
  s: BreakerSettings,
  outcome: BreakerOutcome,
  probe: string | undefined,
): RecordStep {
  if (probe !== undefined) {
    // Only the probe holding the lease decides; a stale one (its lease ran out) is ignored.
    if (!row || row.state !== 'half-open' || row.probeToken !== probe) return {};
    if (outcome === 'success') return { transition: { to: 'closed' }, write: closed(row.name) };
    if (outcome === 'neutral') return { write: { ...row, until: now, probeToken: null } };
    const until = now + s.cooldownMs;
    return {
      transition: { to: 'open', failures: row.failures, until, reopened: true },
      write: { ...row, state: 'open', openedAt: now, until, probeToken: null },
    };
  }
  if (outcome !== 'failure') return {};
  // A job let in before the breaker opened, failing after: it is open already.
  if (row && row.state !== 'closed') return {};
  const base = row ?? closed(s.name);
  const fresh = base.windowStartedAt === null || base.windowStartedAt + s.windowMs <= now;
  const failures = fresh ? 1 : base.failures + 1;
  const windowStartedAt = fresh ? now : base.windowStartedAt;
  const counted = { ...base, failures, windowStartedAt, windowMs: s.windowMs };
  if (failures < s.failures) return { write: counted };
  const until = now + s.cooldownMs;
  return {
    transition: { to: 'open', failures, until, reopened: false },
    write: { ...counted, state: 'open', openedAt: now, until },
  };
}

export function closed(name: string): BreakerRow {
  return {
    name,
    state: 'closed',
    failures: 0,
    windowStartedAt: null,
    windowMs: null,
    openedAt: null,
    until: null,
    probeToken: null,
  };
}

/** A row as `breaker:list` shows it at `now` (see BreakerStatus). */
export function statusOf(row: BreakerRow, now: number): BreakerStatus {
  const windowOver =
    row.state === 'closed' &&
    row.windowStartedAt !== null &&
    row.windowMs !== null &&
    row.windowStartedAt + row.windowMs <= now;
  const waitingForProbe = row.state !== 'closed' && (row.until ?? 0) <= now;
  const state: BreakerState = waitingForProbe ? 'half-open' : row.state;
  return {
    name: row.name,
    state,
    failures: windowOver ? 0 : row.failures,
    windowStartedAt: windowOver ? null : row.windowStartedAt,
    openedAt: row.state === 'closed' ? null : row.openedAt,
    until: state === 'closed' || waitingForProbe ? null : row.until,
    probing: state === 'half-open' && !waitingForProbe && row.probeToken !== null,
  };
}
