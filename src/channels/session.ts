/*
 * withChannelSource: how a job uses a ChannelSource. It takes the session's lease (one process
 * per session), connects, checks the session with up to 3 reconnects, runs the job's code with
 * a guarded source (rate-limited per account and method, errors mapped, flood waits reported),
 * and always closes the connection and frees the lease.
 */
import { Permanent, RetryAfter } from '../jobs/errors.js';
import type { FlowControl } from '../flow/types.js';
import type { JobContext, JobLogger } from '../jobs/types.js';
import { sleep } from '../util/sleep.js';
import { ChannelConnectionError, MTPROTO_LIMIT, mapChannelError } from './errors.js';
import { guardedSource, METHODS, type FloodWaitNotice } from './guarded.js';
import { leaseKey, SessionLease } from './lease.js';
import type { ChannelSource, SessionAccount } from './types.js';

/** What withChannelSource needs of the job: a middleware's ctx has all of it. */
export interface ChannelJobContext {
  /** The storage's flow control: its LockStore holds the lease, its rate limits the flood waits. */
  readonly flow?: FlowControl;
  readonly signal: AbortSignal;
  readonly log: JobLogger;
  readonly jobId: string;
  /** The job's dispatch (a middleware's ctx has it): for onFloodWait to queue a notice. */
  readonly dispatch?: JobContext['dispatch'];
}

export interface ChannelSessionOptions {
  /**
   * Called when Telegram makes the account wait (FLOOD_WAIT), before the job is put back: tell
   * the user (`ctx.dispatch` a Telegram message or a mail). Awaited; its errors are logged,
   * never thrown.
   */
  onFloodWait?(notice: FloodWaitNotice, ctx: ChannelJobContext): void | Promise<void>;
  /**
   * Reconnects after a failed connect or session check (a lost connection, a timeout) before the
   * job fails with the reason: 0 to 10.
   * @defaultValue 3
   */
  reconnects?: number;
  /** The pause before each reconnect, ms. @defaultValue 1000 */
  reconnectDelayMs?: number;
  /** How long the session check may take before it counts as failed, ms. @defaultValue 10000 */
  checkTimeoutMs?: number;
  /**
   * The lease's length, ms (renewed every third of it while the job runs; it only matters when
   * the holder dies: the session waits that long). At least 3000.
   * @defaultValue 60000
   */
  leaseMs?: number;
  /** The longest a job that finds the session in use waits before it looks again, ms. @defaultValue 1000 */
  retryBusyAfterMs?: number;
}

/** What the job's code gets. */
export interface ChannelSession {
  /** The connected source: calls rate-limited per account and method, errors mapped. */
  source: ChannelSource;
  /** Who the session belongs to, as the check found it. */
  me: SessionAccount;
  /** Reconnects the health check needed (0 when the first connect worked). */
  reconnects: number;
  /** Flood waits met so far (any escapes as a RetryAfter unless the code catches it). */
  floodWaits: number;
}

const FIX_FLOW =
  'Run the job under `run queue:work` (or give the Worker flow control: flowControl(driver, rules, emit)).';

/**
 * Runs `fn` with `source` connected and its session checked, holding the session's lease.
 *
 * - Lease: `channels.session:<source.sessionId ?? source.account>` in the flow's LockStore; a
 *   job that finds it held is put back (RetryAfter, no attempt spent) for up to
 *   `retryBusyAfterMs`.
 * - Health: connect, then checkSession within `checkTimeoutMs`; a connection failure closes,
 *   waits `reconnectDelayMs` and tries again, up to `reconnects` times, then fails the attempt
 *   with ChannelConnectionError naming the reason (retried with the job's backoff). A dead
 *   session fails at once: ChannelSessionError (Permanent) naming `run telegram:login`.
 * - Flood wait: ChannelFloodWait (a RetryAfter pushing back `telegram.mtproto` for
 *   `<account>:<method>`), after `onFloodWait`.
 * - Always: `source.close()` and the lease freed, whatever `fn` did.
 *
 * Errors: Permanent when the job has no flow control or the config does not declare
 * `telegram.mtproto` (add `channels: {}` to defineConfig); the mapped errors above; `fn`'s own.
 */
export async function withChannelSource<T>(
  ctx: ChannelJobContext,
  source: ChannelSource,
  fn: (session: ChannelSession) => Promise<T>,
  options: ChannelSessionOptions = {},
): Promise<T> {
  const settings = checked(options);
  const { flow, signal, log } = ctx;
  const account = source.account;
  if (!flow)
    throw new Permanent(
      `Job ${ctx.jobId}: withChannelSource has no storage to hold the Telegram session's lease (ctx.flow is undefined). ${FIX_FLOW}`,
    );
  if (!flow.rateLimits.has(MTPROTO_LIMIT))
    throw new Permanent(
      `Job ${ctx.jobId}: the config does not declare the rate limit '${MTPROTO_LIMIT}' that flood waits push back. Add \`channels: {}\` to defineConfig (it declares it), or declare rateLimits['${MTPROTO_LIMIT}'].`,
    );

  const key = leaseKey(source.sessionId ?? account);
  const taken = await SessionLease.take(flow.store.locks, key, settings.leaseMs, log, () => {
    void source.close().catch(() => undefined);
  });
  if (!taken.lease) {
    const ms = Math.min(taken.expiresInMs, settings.retryBusyAfterMs);
    throw new RetryAfter(
      ms / 1000,
      `The Telegram session of account ${account} is in use by another job; waiting for it.`,
    );
  }
  const lease = taken.lease;
  let floodWaits = 0;
  const guarded = guardedSource(source, {
    flow,
    signal,
    onFlood: async (notice) => {
      floodWaits++;
      log.warn(
        `Telegram flood wait: account ${notice.account} waits ${notice.seconds}s on ${notice.method}.`,
        { ...notice },
      );
      try {
        await options.onFloodWait?.(notice, ctx);
      } catch (error) {
        log.error(`onFloodWait failed: ${(error as Error)?.message ?? String(error)}`, {
          ...notice,
        });
      }
    },
  });
  try {
    const { me, reconnects } = await healthy(guarded, settings, signal, log);
    const session: ChannelSession = {
      source: guarded,
      me,
      reconnects,
      get floodWaits() {
        return floodWaits;
      },
    };
    return await fn(session);
  } finally {
    try {
      await source.close();
    } catch (error) {
      log.warn(
        `Could not close the Telegram connection of account ${account}: ${(error as Error)?.message ?? String(error)}`,
      );
    }
    await lease.release();
  }
}

type Settings = Required<Omit<ChannelSessionOptions, 'onFloodWait'>>;

function checked(options: ChannelSessionOptions): Settings {
  const s: Settings = {
    reconnects: options.reconnects ?? 3,
    reconnectDelayMs: options.reconnectDelayMs ?? 1000,
    checkTimeoutMs: options.checkTimeoutMs ?? 10_000,
    leaseMs: options.leaseMs ?? 60_000,
    retryBusyAfterMs: options.retryBusyAfterMs ?? 1000,
  };
  const bad = (name: string, range: string) =>
    new Permanent(
      `withChannelSource: ${name} must be ${range}, got ${String(options[name as keyof ChannelSessionOptions])}.`,
    );
  if (!Number.isInteger(s.reconnects) || s.reconnects < 0 || s.reconnects > 10)
    throw bad('reconnects', 'a whole number from 0 to 10');
  if (!(s.reconnectDelayMs >= 0)) throw bad('reconnectDelayMs', 'a number of ms, 0 or more');
  if (!(s.checkTimeoutMs >= 1)) throw bad('checkTimeoutMs', 'a number of ms, 1 or more');
  if (!Number.isInteger(s.leaseMs) || s.leaseMs < 3000)
    throw bad('leaseMs', 'a whole number of ms, 3000 or more');
  if (!(s.retryBusyAfterMs >= 0)) throw bad('retryBusyAfterMs', 'a number of ms, 0 or more');
  return s;
}

/** Connects and checks the session, reconnecting after connection failures. */
async function healthy(
  source: ChannelSource,
  settings: Settings,
  signal: AbortSignal,
  log: JobLogger,
): Promise<{ me: SessionAccount; reconnects: number }> {
  const account = source.account;
  for (let reconnects = 0; ; reconnects++) {
    signal.throwIfAborted();
    let failure: unknown;
    try {
      await source.connect(signal).catch(async (error: unknown) => {
        throw await mapChannelError(error, { account, method: METHODS.connect });
      });
      const me = await within(source.checkSession(signal), settings.checkTimeoutMs, account);
      return { me, reconnects };
    } catch (error) {
      failure = error;
    }
    if (!(failure instanceof ChannelConnectionError)) throw failure;
    await source.close().catch(() => undefined);
    if (reconnects >= settings.reconnects)
      throw new ChannelConnectionError(
        `Telegram is unreachable for account ${account} after ${reconnects} reconnect${reconnects === 1 ? '' : 's'}: ${failure.message}`,
        { cause: failure },
      );
    log.warn(
      `Reconnecting to Telegram for account ${account} (${reconnects + 1} of ${settings.reconnects}): ${failure.message}`,
      {
        account,
      },
    );
    await sleep(settings.reconnectDelayMs, signal);
  }
}

/** `promise`, or a ChannelConnectionError after `ms`. */
async function within<T>(promise: Promise<T>, ms: number, account: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new ChannelConnectionError(
            `The session check of account ${account} took longer than ${ms}ms.`,
          ),
        ),
      ms,
    );
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}
