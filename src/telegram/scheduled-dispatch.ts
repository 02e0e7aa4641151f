/*
 * `run scheduled:dispatch`: moves due rows of telegram_scheduled_messages to the send queue,
 * each exactly once. A row is claimed (pending → queued) by one UPDATE only one process can make
 * (scheduled-store.ts), then dispatched as a `telegram.scheduled` job whose unique key is the
 * row's id, then its job id is recorded. A crash after the claim leaves the row queued without a
 * job id; a later run claims it again after STALE_MS and dispatches it again, which the unique
 * key deduplicates (and the sender skips a row already sent), so no crash loses or doubles one.
 */
import type { Database } from '../db/connection.js';
import type { DispatchResult, JobDefinition } from '../jobs/types.js';
import { sleep } from '../util/sleep.js';
import {
  claimDue,
  markQueued,
  markScheduledFailed,
  nextPending,
  type ScheduledRow,
} from './scheduled-store.js';
import type { TelegramSendPayload } from './send-payload.js';

/** How long a claimed row may wait for its job id before another run dispatches it again. */
export const STALE_MS = 60_000;

export interface ScheduledDispatchDeps {
  db: () => Promise<Database>;
  job: JobDefinition<TelegramSendPayload>;
  dispatch: (
    job: JobDefinition<TelegramSendPayload>,
    payload: TelegramSendPayload,
  ) => Promise<DispatchResult>;
}

export interface DispatchedBatch {
  /** Rows dispatched, with their job ids. */
  queued: Array<{ id: number; jobId: string; chatId: string; sendAt: number }>;
  /** Rows that could not become a job (a payload the sender refuses), now failed. */
  failed: Array<{ id: number; error: string }>;
}

/** Dispatches up to `limit` due rows, oldest first. */
export async function dispatchDue(
  deps: ScheduledDispatchDeps,
  limit: number,
): Promise<DispatchedBatch> {
  const db = await deps.db();
  const rows = await claimDue(db, limit, STALE_MS);
  const batch: DispatchedBatch = { queued: [], failed: [] };
  for (const row of rows) {
    let result: DispatchResult;
    try {
      result = await deps.dispatch(deps.job, payloadOf(row));
    } catch (error) {
      const name = (error as Error).name;
      // A payload the sender refuses can never go; anything else (storage down) is retried by
      // a later run once the claim is stale.
      if (name !== 'InvalidPayloadError' && name !== 'InvalidDispatchError') throw error;
      const message = (error as Error).message;
      await markScheduledFailed(db, row.id, 'none', message);
      batch.failed.push({ id: row.id, error: message });
      continue;
    }
    await markQueued(db, row.id, result.id);
    batch.queued.push({ id: row.id, jobId: result.id, chatId: row.chatId, sendAt: row.sendAt });
  }
  return batch;
}

function payloadOf(row: ScheduledRow): TelegramSendPayload {
  return {
    bot: row.bot ?? undefined,
    method: row.method,
    params: row.params as TelegramSendPayload['params'],
    scheduled: row.id,
  };
}

export interface WatchEvents {
  batch(batch: DispatchedBatch): void;
  error(error: Error, retryInMs: number): void;
}

/**
 * Dispatches due rows until `signal` aborts: after each batch it sleeps until the next pending
 * row's send_at, at most `sleepMs` (a row stored meanwhile is found within `sleepMs`). A full
 * batch is followed at once by the next; a storage error is reported and retried after `sleepMs`
 * (at least a second).
 */
export async function watchDue(
  deps: ScheduledDispatchDeps,
  options: { limit: number; sleepMs: number; signal: AbortSignal },
  events: WatchEvents,
): Promise<void> {
  const { limit, sleepMs, signal } = options;
  while (!signal.aborted) {
    let wait = sleepMs;
    try {
      const batch = await dispatchDue(deps, limit);
      if (batch.queued.length > 0 || batch.failed.length > 0) events.batch(batch);
      if (batch.queued.length + batch.failed.length >= limit) continue;
      const next = await nextPending(await deps.db());
      if (next) wait = Math.min(sleepMs, Math.max(0, next.sendAt - next.now));
    } catch (error) {
      wait = Math.max(1000, sleepMs);
      events.error(error as Error, wait);
    }
    await sleep(wait, signal);
  }
}
