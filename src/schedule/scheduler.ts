import { EventEmitter } from 'node:events';
import type { Database } from '../db/connection.js';
import type { SchedulerClock } from './clock.js';
import { CronSchedule } from './cron.js';
import type { SchedulerEvents } from './events.js';
import { OverlapLease } from './lease.js';
import type { EntryOutcome, EntryRunner } from './run-entry.js';
import { claimSlot, finishSlot, pruneSlots, type SlotKey } from './store.js';
import type { ResolvedEntry } from './types.js';
import { sleep } from '../util/sleep.js';
import { timerDelay } from '../util/timers.js';

export interface SchedulerDeps {
  db: Database;
  clock: SchedulerClock;
  runner: EntryRunner;
  /** This host's name: the scope of entries with onOneServer: false. */
  host: string;
  /** host:pid, stored with slots and leases so an operator can tell who ran what. */
  owner: string;
}

/** What happened to one run of an entry. */
export type RunResult = (EntryOutcome & { skipped?: false }) | { skipped: true; detail: string };

/** Slot rows are kept this long, then pruned. */
const KEEP_SLOTS_MS = 7 * 86_400_000;
/** schedule:work re-reads the database clock and prunes at least this often. */
const RESYNC_MS = 60_000;
const MINUTE = 60_000;

/**
 * Fires schedule entries on their slots. Each slot is claimed with a row insert, so any number
 * of schedulers (hosts, a cron line and a schedule:work) fire it once. Entries run side by side.
 */
export class Scheduler extends EventEmitter<SchedulerEvents> {
  private readonly crons: Map<string, CronSchedule>;
  private readonly running = new Set<Promise<unknown>>();
  /** Aborted by stop(): no new slots, and running commands get SIGTERM. */
  private readonly stopping = new AbortController();
  /** Aborted when the grace is over or on a second stop(): running commands get SIGKILL. */
  private readonly killing = new AbortController();
  /** Runs that failed (a command's non-zero exit, a failed dispatch, a storage error). */
  failures = 0;

  constructor(
    private readonly entries: ResolvedEntry[],
    private readonly deps: SchedulerDeps,
  ) {
    super();
    this.crons = new Map(entries.map((e) => [e.name, new CronSchedule(e.cron, e.timezone)]));
  }

  get stopped(): boolean {
    return this.stopping.signal.aborted;
  }

  /** First call: take no new slots, pass SIGTERM to running commands. Second: SIGKILL them. */
  stop(): void {
    if (this.stopping.signal.aborted) return this.killing.abort();
    this.emit('scheduler:stopping');
    this.stopping.abort();
  }

  /**
   * `schedule:run`: fires the slots of the current minute that are due, stays for slots later in
   * the same minute (six-field expressions), and returns when every run has finished.
   */
  async runMinute(graceMs: number): Promise<void> {
    const now = this.deps.clock.now();
    const minuteStart = Math.floor(now / MINUTE) * MINUTE;
    await this.prune(now);
    await this.loop(minuteStart - 1, minuteStart + MINUTE - 1, false);
    await this.drain(graceMs);
  }

  /**
   * `schedule:work`: sleeps to the next slot and fires it, until stop(). Slots that passed
   * before it started are not fired (as cron would not). After a pause (a suspended machine),
   * each entry fires its latest missed slot once, not every one it missed.
   */
  async work(graceMs: number): Promise<void> {
    await this.loop(this.deps.clock.now(), Number.POSITIVE_INFINITY, true);
    await this.drain(graceMs);
  }

  /** Runs one entry now, outside its schedule (`schedule:test`), overlap lease included. */
  async runNow(entry: ResolvedEntry): Promise<RunResult> {
    return this.execute(entry);
  }

  /** Next slot of each entry after `after`, soonest first. */
  upcoming(after: number): Array<{ entry: ResolvedEntry; at: number }> {
    return this.entries
      .map((entry) => ({ entry, at: this.crons.get(entry.name)!.next(after) }))
      .filter((x): x is { entry: ResolvedEntry; at: number } => x.at !== undefined)
      .sort((a, b) => a.at - b.at);
  }

  private async loop(from: number, until: number, resync: boolean): Promise<void> {
    const { clock } = this.deps;
    let cursor = from;
    let lastSync = Date.now();
    let announced: number | undefined;
    while (!this.stopped) {
      const now = Math.min(clock.now(), until);
      if (now > cursor) {
        this.fireDue(cursor, now);
        cursor = now;
      }
      if (cursor >= until) return;
      const next = this.upcoming(cursor);
      if (next.length === 0 || next[0]!.at > until) return;
      const at = next[0]!.at;
      if (resync && at !== announced) {
        announced = at;
        this.emit('scheduler:waiting', {
          at,
          entries: next.filter((n) => n.at === at).map((n) => n.entry.name),
        });
      }
      // Long waits are cut into pieces so the clock offset is refreshed on the way.
      await sleep(timerDelay(Math.min(at - clock.now(), RESYNC_MS)), this.stopping.signal);
      if (resync && Date.now() - lastSync >= RESYNC_MS) {
        lastSync = Date.now();
        await clock.sync().catch((error) => this.fail(error, 'reading the database clock'));
        await this.prune(clock.now());
      }
    }
  }

  /** Starts every entry whose latest slot in (from, to] has not been fired yet. */
  private fireDue(from: number, to: number): void {
    for (const entry of this.entries) {
      const slotAt = this.crons.get(entry.name)!.latestIn(from, to);
      if (slotAt === undefined) continue;
      const run = this.fire(entry, slotAt).finally(() => this.running.delete(run));
      this.running.add(run);
    }
  }

  private async fire(entry: ResolvedEntry, slotAt: number): Promise<void> {
    const key: SlotKey = {
      entry: entry.name,
      slotAt,
      scope: entry.onOneServer ? '*' : this.deps.host,
    };
    let claimed: boolean;
    try {
      claimed = await claimSlot(this.deps.db, key, this.deps.owner);
    } catch (error) {
      return this.fail(
        error,
        `claiming the ${new Date(slotAt).toISOString()} slot of ${entry.name}`,
      );
    }
    if (!claimed) {
      const detail = entry.onOneServer
        ? 'another scheduler fired this slot'
        : 'another scheduler on this host fired this slot';
      this.emit('entry:skipped', { entry, slotAt, reason: 'taken', detail });
      return;
    }
    await this.execute(entry, key);
  }

  /** Takes the overlap lease if the entry has one, runs the action, records the outcome. */
  private async execute(entry: ResolvedEntry, key?: SlotKey): Promise<RunResult> {
    const { db, owner, runner } = this.deps;
    const slotAt = key?.slotAt;
    let lease: OverlapLease | undefined;
    if (entry.overlapLeaseMs !== undefined) {
      try {
        const got = await OverlapLease.acquire(db, entry.name, owner, entry.overlapLeaseMs, () =>
          this.emit('entry:lease-lost', { entry }),
        );
        if ('heldBy' in got) {
          const holder = got.heldBy;
          const detail = holder
            ? `still running: ${holder.owner} holds its overlap lease until ${new Date(holder.expiresAt).toISOString()}`
            : 'still running elsewhere (its overlap lease was just released)';
          this.emit('entry:skipped', { entry, slotAt, reason: 'overlapping', detail });
          if (key) await this.record(key, 'skipped', detail);
          return { skipped: true, detail };
        }
        lease = got.lease;
      } catch (error) {
        this.fail(error, `taking the overlap lease of ${entry.name}`);
        if (key) await this.record(key, 'failed', (error as Error).message);
        return { ok: false, detail: `overlap lease: ${(error as Error).message}` };
      }
    }
    this.emit('entry:started', { entry, slotAt });
    const startedAt = Date.now();
    let outcome: EntryOutcome;
    try {
      outcome = await runner.run(entry, this.stopping.signal, this.killing.signal);
    } finally {
      await lease
        ?.release()
        .catch((error) => this.fail(error, `releasing the lease of ${entry.name}`));
    }
    if (!outcome.ok) this.failures++;
    if (key) await this.record(key, outcome.ok ? 'ok' : 'failed', outcome.detail);
    this.emit('entry:finished', { entry, slotAt, ...outcome, durationMs: Date.now() - startedAt });
    return outcome;
  }

  private async record(key: SlotKey, outcome: 'ok' | 'failed' | 'skipped', detail: string) {
    await finishSlot(this.deps.db, key, outcome, detail).catch((error) =>
      this.fail(error, `recording the outcome of ${key.entry}`),
    );
  }

  private async prune(now: number): Promise<void> {
    await pruneSlots(this.deps.db, now - KEEP_SLOTS_MS).catch((error) =>
      this.fail(error, 'pruning old slot rows'),
    );
  }

  /** Waits for running entries; `graceMs` after a stop, kills what still runs. */
  private async drain(graceMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const startGrace = () => {
      timer ??= setTimeout(() => this.killing.abort(), timerDelay(graceMs));
    };
    if (this.stopped) startGrace();
    else this.stopping.signal.addEventListener('abort', startGrace, { once: true });
    try {
      await Promise.allSettled([...this.running]);
    } finally {
      clearTimeout(timer);
      this.stopping.signal.removeEventListener('abort', startGrace);
    }
  }

  private fail(error: unknown, during: string): void {
    this.failures++;
    this.emit('scheduler:error', {
      error: error instanceof Error ? error : new Error(String(error)),
      during,
    });
  }
}
