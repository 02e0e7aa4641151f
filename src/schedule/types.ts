/**
 * Glossary of the scheduler:
 *
 * - **entry**: one line of the schedule in jobsmith.config.ts: a name, a cron expression and an
 *   action (dispatch a job, or run a `run` command).
 * - **slot**: one moment an entry's cron expression names (12:00:00 for `0 12 * * *`). A slot
 *   fires once: a row per (entry, slot) in `schedule_slots` decides which process fires it.
 * - **scope**: who a slot is unique for: `*` (every host, `onOneServer: true`, the default) or
 *   one host name (`onOneServer: false`: each host fires it once).
 * - **overlap lease**: with `withoutOverlapping`, a row in `schedule_leases` that the running
 *   entry holds and renews; a slot that comes while it is held is skipped. A crashed run stops
 *   renewing, so its lease expires within one lease length.
 */
import type { JobDefinition } from '../jobs/types.js';

/** What every schedule entry has. */
export interface ScheduleEntryBase {
  /**
   * Unique, stable name (letters, digits and . _ : -): `run schedule:test NAME` takes it, and
   * it keys the entry's slot rows and overlap lease, so renaming an entry forgets its history.
   */
  name: string;
  /**
   * When it runs: a cron expression of 5 fields (minute hour day-of-month month day-of-week),
   * 6 fields (seconds first), or `@hourly`, `@daily`, `@weekly`, `@monthly`, `@yearly`.
   * Helpers build common ones: `everyMinute()`, `dailyAt('03:00')`, `weeklyOn(1, '08:00')`...
   */
  cron: string;
  /**
   * IANA time zone the expression is read in (`Europe/Paris`).
   * @defaultValue the config's `scheduleTimezone`, else UTC (never the host's zone: hosts in
   * different zones must agree on when a slot is)
   */
  timezone?: string;
  /**
   * Skip a slot while the previous run of this entry still runs, on any host. `true` holds a
   * lease of 60 seconds, renewed every 20 seconds while the entry runs; `{ lease: '5m' }`
   * sets the lease length (1s to about 24.8 days), which is how long a crashed run can block
   * the entry.
   * @defaultValue false
   */
  withoutOverlapping?: boolean | { lease: number | string };
  /**
   * `true`: each slot fires once across every host that runs the scheduler. `false`: once on
   * each host (for per-host chores such as cleaning a local folder).
   * @defaultValue true
   */
  onOneServer?: boolean;
  /** A few words shown by `run schedule:list`. */
  description?: string;
}

/** An entry that dispatches a job. */
export interface JobScheduleEntry<P = unknown> extends ScheduleEntryBase {
  /** The job (a definition from defineJob, or its name); it must be in the config's jobs. */
  job: JobDefinition<P> | string;
  /** Payload, checked against the job's schema when the config loads. @defaultValue {} */
  payload?: P;
  /** Queue to push onto (letters, digits and . _ -). @defaultValue the job's queue */
  queue?: string;
  /** Higher runs first within the queue (±1048575). @defaultValue the job's priority */
  priority?: number;
  /** Queue connection (`database`, `redis`, `sync`). @defaultValue QUEUE_CONNECTION */
  connection?: string;
  command?: never;
}

/** An entry that runs a `run` command, as a child process in the scheduler's folder. */
export interface CommandScheduleEntry extends ScheduleEntryBase {
  /**
   * The command and its flags: `'queue:prune-failed --hours 168'` (split like a shell would,
   * quotes allowed, no variables) or `['queue:prune-failed', '--hours', '168']`.
   */
  command: string | string[];
  job?: never;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type ScheduleEntry = JobScheduleEntry<any> | CommandScheduleEntry;

/** What an entry does when it fires, resolved and checked. */
export type EntryAction =
  | {
      type: 'job';
      job: JobDefinition;
      payload: unknown;
      queue?: string;
      priority?: number;
      connection?: string;
    }
  | { type: 'command'; args: string[] };

/** A checked entry, ready for the scheduler. */
export interface ResolvedEntry {
  name: string;
  cron: string;
  timezone: string;
  description?: string;
  action: EntryAction;
  /** Lease length in ms with withoutOverlapping; undefined lets runs overlap. */
  overlapLeaseMs?: number;
  onOneServer: boolean;
}

/** Lease length of `withoutOverlapping: true`, ms. */
export const DEFAULT_OVERLAP_LEASE_MS = 60_000;
