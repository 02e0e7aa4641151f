/*
 * GCRA, the decision itself (store.ts explains the algorithm). The SQLite store runs it here, in
 * its transaction; the PostgreSQL function (migrations/0022_rate_limit_take_clock.ts) and the
 * Redis script (redis.ts) carry the same steps in their own language, and the conformance suite
 * holds the three to the same answers. Each reads its clock once it holds the keys: a decision
 * on a clock read before waiting for them would treat a moment already past as now.
 *
 * Times are whole microseconds: T = per / limit is rarely a whole number of milliseconds
 * (1 s / 30), and rounding it to the millisecond would let the rate drift by up to 3%. T is
 * rounded up, so the rate may be a hair slower than the limit, never faster.
 */
import type { RateLimitRequest, RateLimitRule, RateLimitUsage } from './store.js';

/**
 * The most a request may come early and still be let through, booked for the moment its keys
 * free (see GcraParams.graceUs), and so the longest rateLimited waits in the worker: 100 ms.
 */
export const SHORT_WAIT_MS = 100;

export interface GcraParams {
  /** Emission interval T, µs. */
  intervalUs: number;
  /** Tolerance tau = burst × T, µs. */
  toleranceUs: number;
  /**
   * A request at most this early (SHORT_WAIT_MS, whatever T) is let through, booked for the
   * exact moment its keys free: tat moves on from that moment, not from when the request came,
   * and the caller waits until then (rateLimited waits in the worker). It is most likely the
   * job a slot was handed to, back a few ms before the job ahead of it let go (claims are late
   * by varying amounts), or a few slots behind on a fast key (1 s / 30) after jobs booked on
   * another key took its own. Denied, it would lose its place; made to ask again, every step
   * would add a timer's and a round trip's lateness, a few % of a busy key's rate.
   */
  graceUs: number;
}

/** A rule's GCRA parameters, in whole microseconds. */
export function gcraParams(rule: RateLimitRule): GcraParams {
  const intervalUs = Math.ceil((rule.perMs * 1000) / rule.limit);
  return {
    intervalUs,
    toleranceUs: rule.burst * intervalUs,
    graceUs: SHORT_WAIT_MS * 1000,
  };
}

/**
 * The requests of one take, each (limit, key) once, sorted by limit name then key: the order
 * every store locks its rows in, so two takes never wait on each other in a cycle.
 */
export function orderRequests(requests: readonly RateLimitRequest[]): RateLimitRequest[] {
  const seen = new Map<string, RateLimitRequest>();
  for (const request of requests) seen.set(`${request.rule.name}\u0000${request.key}`, request);
  return [...seen.values()].sort((a, b) =>
    a.rule.name === b.rule.name ? compare(a.key, b.key) : compare(a.rule.name, b.rule.name),
  );
}

// Code-unit order, as PostgreSQL's "C" collation and Redis compare: never locale-dependent.
const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** A key's stored state, in microseconds (0 for a key never seen). */
export interface KeyState {
  tat: number;
  backlog: number;
}

export interface GcraItem extends GcraParams {
  state: KeyState;
  /** Until when the whole limit is pushed back, µs (0: it is not). */
  blockedUntil: number;
}

/**
 * Decides a take at `now` (µs) and updates the states in place: every tat when let through,
 * the backlogs of the keys that hand out a slot on a denial. Let through, `waitUs` is how long
 * the caller must wait before it goes (0, or up to the grace when booked ahead); denied,
 * `index` is the item that sets the moment the job comes back, `waitUs` later. `booked`: the
 * job comes back from a slot a denied take handed it (RateLimitTakeOptions.booked).
 */
export function decide(
  now: number,
  items: readonly GcraItem[],
  booked = false,
): { allowed: true; waitUs: number } | { allowed: false; index: number; waitUs: number } {
  // The earliest moment each key lets a request through: tat − tau, and not before a push-back.
  const freeAt = items.map((i) => Math.max(i.state.tat - i.toleranceUs, i.blockedUntil));
  const at = Math.max(now, ...freeAt);
  if (at - now <= Math.min(...items.map((i) => i.graceUs))) {
    for (const item of items) item.state.tat = Math.max(item.state.tat, at) + item.intervalUs;
    return { allowed: true, waitUs: at - now };
  }
  // Denied: the job comes back at the latest of its keys' next slots. A key's next slot is when
  // it frees, and for a job not yet booked, no earlier than the slot after the last one the
  // key handed out (its backlog, even while the key is free now): jobs booked on it go first,
  // so two jobs of one chat are not handed bot-wide slots a few ms apart, the second to be
  // denied for its chat and its slot lost. A booked job already holds one of those slots;
  // denied again (another job took its slot, or a key was pushed back), it goes when its keys
  // free, not to the back of the line.
  const next = items.map((item, i) => Math.max(now, freeAt[i]!, booked ? 0 : item.state.backlog));
  let index = 0;
  next.forEach((slot, i) => {
    if (slot > next[index]!) index = i;
  });
  const moment = next[index]!;
  // The key that sets the moment hands out that slot, and so does every key with a longer
  // interval, whose slot the job uses then (a chat's, when the bot-wide key sets the moment).
  // A key with a shorter interval keeps its slots up to that moment for jobs that can use
  // them: a send waiting a second for its chat takes none of the bot's 30 slots of that second
  // (booking every key, a sender reached half the allowed rate; only the one that set the
  // moment, 0.6x: docs/performance.md, "Telegram"). The job meets it again when it comes back,
  // most often within the grace.
  const setter = items[index]!.intervalUs;
  items.forEach((item, i) => {
    if (i === index || item.intervalUs > setter)
      item.state.backlog = Math.max(item.state.backlog, moment + item.intervalUs);
  });
  return { allowed: false, index, waitUs: moment - now };
}

/** A wait in µs as the whole milliseconds a job is put back for: rounded up, never early. */
export const waitMs = (waitUs: number) => Math.ceil(waitUs / 1000);

/** A limit's stored rows (µs) as RateLimitUsage (ms), for limits:list. */
export function usage(
  nowUs: number,
  toleranceUs: number,
  blockedUntilUs: number,
  rows: ReadonlyArray<{ key: string; tat: number | string; backlog: number | string }>,
): RateLimitUsage {
  const now = Math.floor(nowUs / 1000);
  // A moment still to come rounds up (never shown as free before it is); a past one is now.
  const ms = (us: number) => (us > nowUs ? Math.ceil(us / 1000) : now);
  return {
    now,
    ...(blockedUntilUs > nowUs ? { blockedUntil: ms(blockedUntilUs) } : {}),
    keys: rows.map((row) => {
      // As take() decides: no key of a pushed-back limit is free before the push-back ends.
      const freeAt = Math.max(Number(row.tat) - toleranceUs, blockedUntilUs);
      return {
        key: row.key,
        freeAt: ms(freeAt),
        backlogUntil: ms(Math.max(Number(row.backlog), freeAt)),
      };
    }),
  };
}
