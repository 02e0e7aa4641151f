/*
 * One round of alert checks: measure every alert's condition, decide each alert's change
 * (decide.ts), store it fenced by the row's version (store.ts) and, for the one checker that
 * made a change that owes a notification, queue it (notify.ts). Any number of checkers may run
 * a round at the same moment: each change is made, and notified, once.
 */
import type { Knex } from 'knex';
import type { QueueDriver } from '../queue/driver.js';
import { decide, type AlertEvent, type Reading } from './decide.js';
import { measureAll } from './measure.js';
import type { Notifier, SentNotification } from './notify.js';
import type { ResolvedAlert } from './settings.js';
import {
  changeState,
  freshRow,
  insertMissing,
  readStates,
  recordValue,
  type AlertRow,
  type Notice,
} from './store.js';

/**
 * A notice still set this long after it was (last) claimed was left by a checker that died
 * before queueing it, or failed to: the next check queues it again.
 */
export const NOTICE_RETRY_MS = 30_000;

export interface CheckDeps {
  knex: Knex;
  queues(connection?: string): Promise<QueueDriver>;
  /** The check's time (the database clock), epoch ms. */
  now(): Promise<number>;
  notifier: Notifier;
}

/** What a round found and did for one alert. */
export interface AlertResult {
  alert: ResolvedAlert;
  /** The stored state after this round (another checker's change included). */
  row: AlertRow;
  /** What the condition measured; undefined when it could not be read (see `error`). */
  reading?: Reading;
  /** The condition's source or the storage failed: the alert was left as it was. */
  error?: Error;
  /** The change this checker made; undefined when none (or another checker made it). */
  event?: AlertEvent;
  /** The notice an earlier check left unsent, which this one queued (see `notified`). */
  resent?: Notice;
  /** Notification jobs this checker queued. */
  notified?: SentNotification[];
  /** Queueing the notification failed; a later check sends it again. */
  notifyError?: Error;
}

/** Checks every alert once. Never throws for one alert: its result carries the error. */
export async function checkAlerts(
  alerts: ResolvedAlert[],
  deps: CheckDeps,
): Promise<{ now: number; results: AlertResult[] }> {
  const now = await deps.now();
  const names = alerts.map((a) => a.name);
  await insertMissing(deps.knex, names, now);
  const [rows, readings] = await Promise.all([
    readStates(deps.knex, names),
    measureAll(alerts, { knex: deps.knex, queues: deps.queues, now }),
  ]);
  const results: AlertResult[] = [];
  // One alert at a time: a round is a handful of small statements, and SQLite has one writer.
  for (const alert of alerts) {
    const row = rows.get(alert.name) ?? freshRow(alert.name, now);
    const reading = readings.get(alert.name)!;
    try {
      results.push(await checkOne(alert, row, reading, now, deps));
    } catch (error) {
      results.push({ alert, row, error: error as Error });
    }
  }
  return { now, results };
}

async function checkOne(
  alert: ResolvedAlert,
  stored: AlertRow,
  reading: Reading | Error,
  now: number,
  deps: CheckDeps,
): Promise<AlertResult> {
  const result: AlertResult = { alert, row: stored };
  let row = stored;
  if (row.notice !== null) {
    // Another checker is queueing this notice now; its change stands until it is done.
    if (row.noticeAt !== null && now - row.noticeAt < NOTICE_RETRY_MS) return withReading();
    const claimed = await changeState(deps.knex, row, { noticeAt: now }, now);
    if (!claimed) return { ...result, row: await reread(deps.knex, row), ...readingOf() };
    result.resent = row.notice;
    row = await sendNotice(claimed, row.notice, result);
    // Still unsent (the queue is still down): a change now would overwrite the notice it owes.
    if (row.notice !== null) return { ...result, row, ...readingOf() };
  }
  if (reading instanceof Error) return { ...result, row, error: reading };
  result.reading = reading;
  const condition = alert.condition;
  const decision = decide(
    row,
    reading,
    { forMs: condition.forMs, cooldownMs: alert.cooldownMs },
    now,
  );
  if (!decision.change) {
    await recordValue(deps.knex, row, reading.value, now);
    return { ...result, row: { ...row, lastValue: reading.value } };
  }
  const changed = await changeState(deps.knex, row, decision.change, now);
  // Another checker changed the row since it was read: its change stands, and its notice.
  if (!changed) return { ...result, row: await reread(deps.knex, row) };
  result.event = decision.event;
  result.row = decision.notice ? await sendNotice(changed, decision.notice, result) : changed;
  return result;

  function readingOf() {
    return reading instanceof Error ? { error: reading } : { reading };
  }
  function withReading(): AlertResult {
    return { ...result, ...readingOf() };
  }

  /** Queues `notice` for `row`'s change, then clears it; a failure leaves it for a later check. */
  async function sendNotice(row: AlertRow, notice: Notice, into: AlertResult): Promise<AlertRow> {
    const at = notice === 'firing' ? row.firingSince : row.resolvedAt;
    try {
      into.notified = await deps.notifier.send(
        notice,
        alert,
        { value: row.lastValue, firingSince: row.firingSince, resolvedAt: row.resolvedAt },
        `${notice}:${at}`,
      );
    } catch (error) {
      into.notifyError = error as Error;
      return row;
    }
    // Lost only to a checker that took the notice for stale: it sends it again, deduplicated.
    return (
      (await changeState(deps.knex, row, { notice: null, noticeAt: null }, now)) ??
      (await reread(deps.knex, row))
    );
  }
}

async function reread(knex: Knex, row: AlertRow): Promise<AlertRow> {
  return (await readStates(knex, [row.name])).get(row.name) ?? row;
}
