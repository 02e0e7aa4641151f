/*
 * The durable intake of one bot's updates (`run longpoll`), docs/telegram.md:
 *
 * 1. Hold the bot's poller lease (telegram_state), waiting while another poller holds it.
 * 2. Dispatch the rows a previous poller stored but did not dispatch (`received`).
 * 3. getUpdates(offset) → store the batch and the next offset in one transaction (only while
 *    the lease is ours) → dispatch a `telegram.update` job per new row (the outbox) → repeat.
 *    Where the queue's jobs live in the same PostgreSQL database (deps.transaction), the jobs
 *    are pushed and the rows marked `queued` in that same transaction: one commit per batch.
 *
 * Telegram confirms a batch only when the next getUpdates passes a higher offset, and that call
 * is made only after the batch is stored: a crash at any point loses no update. A crash between
 * storing and dispatching leaves `received` rows, which the next poller dispatches; a job
 * dispatched twice holds one unique key, and the job skips a row already handled.
 *
 * The poller never prints: it emits IntakeEvents that the command renders.
 */
import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import type { Api } from 'grammy';
import type { Knex } from 'knex';
import type { Database } from '../db/connection.js';
import { sleep } from '../util/sleep.js';
import {
  classify,
  TelegramConflictError,
  TelegramRequestError,
  TelegramTokenError,
} from './errors.js';
import { acquirePoller, pollerState, releasePoller, renewPoller } from './poller-lease.js';
import type { BotSettings } from './settings.js';
import {
  markQueued,
  PollerLeaseLost,
  receivedRows,
  storeBatch,
  type RawUpdate,
  type StoredBatch,
} from './updates-store.js';

export interface IntakeOptions {
  bot: BotSettings;
  /** Long-poll hold, seconds (getUpdates' timeout). */
  timeoutS: number;
  /** Updates per getUpdates, 1-100. */
  limit: number;
  /** getUpdates' allowed_updates; undefined keeps what Telegram has (it is sticky). */
  allowedUpdates?: string[];
  /** Call deleteWebhook before polling. */
  dropWebhook: boolean;
  /** Poller lease length, ms; renewed every third of it. */
  leaseMs: number;
  /** Who we are in telegram_state (host:pid). */
  owner: string;
  /** Outage backoff: first wait and cap, ms. @defaultValue 500 and 30000 */
  backoff?: { firstMs: number; maxMs: number };
}

export interface IntakeDeps {
  db: Database;
  api: Api;
  /** Dispatches a `telegram.update` job per row; returns the job ids, in order. */
  dispatch(rows: UpdateRef[]): Promise<string[]>;
  /**
   * Optional: runs `fn` in one transaction of `db` with a `dispatch` bound to it (the queue's
   * jobs live in the same database: Dispatcher.transactional). Each batch is then stored,
   * dispatched and marked queued in one transaction; without it, the batch is stored, then
   * dispatched from the outbox.
   */
  transaction?<T>(
    fn: (trx: Knex.Transaction, dispatch: (rows: UpdateRef[]) => Promise<string[]>) => Promise<T>,
  ): Promise<T>;
}

/** A stored update: its telegram_updates id and Telegram's update_id. */
export interface UpdateRef {
  id: number;
  updateId: number;
}

export type IntakeEvent =
  | { type: 'waiting'; owner?: string; leaseUntil?: number }
  | { type: 'started'; offset?: number; dispatched: number }
  | { type: 'webhook:deleted' }
  | {
      type: 'batch';
      received: number;
      inserted: number;
      duplicates: number;
      replaced: number[];
      clashes: number[];
      dispatched: number;
      offset: number;
    }
  | { type: 'outage'; error: string; retryInMs: number }
  | { type: 'recovered'; downMs: number; failures: number }
  | { type: 'flood'; retryAfterMs: number }
  | { type: 'lease:lost' };

/** Rows dispatched per round of the outbox scan. */
const OUTBOX_BATCH = 500;

export class Intake extends EventEmitter {
  private outage?: { since: number; failures: number };
  private webhookDeleted = false;

  constructor(
    private readonly options: IntakeOptions,
    private readonly deps: IntakeDeps,
  ) {
    super();
  }

  private send(event: IntakeEvent): void {
    this.emit('event', event);
  }

  /**
   * Polls until `signal` aborts (then resolves, lease released). Rejects with
   * TelegramConflictError, TelegramTokenError or TelegramRequestError when polling cannot go
   * on, and with a storage error when the database fails.
   */
  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      const token = randomUUID();
      if (!(await this.waitForLease(token, signal))) return;
      const lost = new AbortController();
      const renewal = this.keepLease(token, lost);
      try {
        await this.poll(token, AbortSignal.any([signal, lost.signal]));
      } catch (error) {
        if (!(error instanceof PollerLeaseLost)) throw error;
        lost.abort();
      } finally {
        clearInterval(renewal);
        if (!lost.signal.aborted) await releasePoller(this.deps.db, this.options.bot.id, token);
      }
      if (lost.signal.aborted && !signal.aborted) this.send({ type: 'lease:lost' });
    }
  }

  /** Takes the lease, waiting (and saying so once) while another poller holds it. */
  private async waitForLease(token: string, signal: AbortSignal): Promise<boolean> {
    const { db } = this.deps;
    const { bot, owner, leaseMs } = this.options;
    let said = false;
    while (!signal.aborted) {
      if (await acquirePoller(db, bot.id, owner, token, leaseMs)) return true;
      if (!said) {
        const state = await pollerState(db, bot.id);
        this.send({ type: 'waiting', owner: state.owner, leaseUntil: state.leaseUntil });
        said = true;
      }
      await sleep(Math.min(1000, Math.max(100, Math.floor(leaseMs / 5))), signal);
    }
    return false;
  }

  /** Renews the lease every third of its length; aborts `lost` when another poller took it. */
  private keepLease(token: string, lost: AbortController): NodeJS.Timeout {
    const { db } = this.deps;
    const { bot, leaseMs } = this.options;
    let renewing = false;
    const timer = setInterval(
      () => {
        if (renewing) return;
        renewing = true;
        renewPoller(db, bot.id, token, leaseMs)
          .then((held) => {
            if (!held) lost.abort();
          })
          // A failed renewal (database restarting) is tried again; the lease has room for two.
          .catch(() => {})
          .finally(() => {
            renewing = false;
          });
      },
      Math.max(100, Math.floor(leaseMs / 3)),
    );
    timer.unref();
    return timer;
  }

  private async poll(token: string, signal: AbortSignal): Promise<void> {
    const { db, api } = this.deps;
    const { bot, limit, timeoutS, allowedUpdates } = this.options;
    if (this.options.dropWebhook && !this.webhookDeleted) {
      await this.withRetries(() => api.deleteWebhook(undefined, cast(signal)), token, signal);
      if (signal.aborted) return;
      this.webhookDeleted = true;
      this.send({ type: 'webhook:deleted' });
    }
    let { offset } = await pollerState(db, bot.id);
    this.send({ type: 'started', offset, dispatched: await this.flush(signal) });
    while (!signal.aborted) {
      const updates = (await this.withRetries(
        () =>
          api.getUpdates(
            {
              offset,
              limit,
              timeout: timeoutS,
              ...(allowedUpdates ? { allowed_updates: allowedUpdates as never } : {}),
            },
            cast(signal),
          ),
        token,
        signal,
      )) as RawUpdate[] | undefined;
      // Stopped while the poll was held: nothing came back, nothing to store.
      if (updates === undefined || updates.length === 0) continue;
      // The next offset confirms this batch; from the batch alone, never from the stored one:
      // after Telegram restarts its ids, the new ones are lower.
      const next = Math.max(...updates.map((u) => u.update_id)) + 1;
      const { stored, dispatched } = await this.store(token, updates, next);
      offset = next;
      this.send({
        type: 'batch',
        received: updates.length,
        inserted: stored.inserted,
        duplicates: stored.duplicates,
        replaced: stored.replaced,
        clashes: stored.clashes,
        dispatched,
        offset,
      });
    }
  }

  /**
   * Stores a batch with the next offset and dispatches its new rows: in one transaction where
   * the jobs live in the same database, else stored, then dispatched from the outbox.
   */
  private async store(
    token: string,
    updates: RawUpdate[],
    next: number,
  ): Promise<{ stored: StoredBatch; dispatched: number }> {
    const { db, transaction } = this.deps;
    const { bot, leaseMs } = this.options;
    if (!transaction) {
      const stored = await storeBatch(db, bot.id, token, updates, next, leaseMs);
      return { stored, dispatched: await this.flush() };
    }
    const stored = await transaction(async (trx, dispatch) => {
      const batch = await storeBatch(db, bot.id, token, updates, next, leaseMs, trx);
      if (batch.rows.length > 0) {
        const jobIds = await dispatch(batch.rows);
        const queued = batch.rows.map((row, i) => ({ id: row.id, jobId: jobIds[i]! }));
        await markQueued(db, queued, trx);
      }
      return batch;
    });
    return { stored, dispatched: stored.rows.length };
  }

  /**
   * Dispatches every `received` row of the bot and marks it `queued`, until none is left.
   * Runs to the end even when stopping: the rows are stored, the jobs cost one push.
   */
  private async flush(signal?: AbortSignal): Promise<number> {
    const { db, dispatch } = this.deps;
    let total = 0;
    for (;;) {
      if (signal?.aborted) return total;
      const rows = await receivedRows(db, this.options.bot.id, OUTBOX_BATCH);
      if (rows.length === 0) return total;
      const jobIds = await dispatch(rows);
      await markQueued(
        db,
        rows.map((row, i) => ({ id: row.id, jobId: jobIds[i]! })),
      );
      total += rows.length;
      // A short page was the last: no query to find nothing.
      if (rows.length < OUTBOX_BATCH) return total;
    }
  }

  /**
   * Runs a Bot API call until it answers, waiting out outages (exponential backoff, capped;
   * one `outage` event per outage, `recovered` after) and flood waits. Undefined when `signal`
   * aborted it. Throws what waiting cannot fix.
   */
  private async withRetries<T>(
    call: () => Promise<T>,
    token: string,
    signal: AbortSignal,
  ): Promise<T | undefined> {
    const { firstMs, maxMs } = this.options.backoff ?? { firstMs: 500, maxMs: 30_000 };
    const { bot } = this.options;
    while (!signal.aborted) {
      try {
        const result = await call();
        if (this.outage) {
          const { since, failures } = this.outage;
          this.outage = undefined;
          this.send({ type: 'recovered', downMs: Date.now() - since, failures });
        }
        return result;
      } catch (error) {
        if (signal.aborted) return undefined;
        const failure = classify(error);
        switch (failure.kind) {
          case 'conflict':
            if (failure.webhook)
              throw new TelegramConflictError('webhook', bot, failure.description);
            // Ended by another poll: ours if the lease went to another poller, else a stranger.
            if (!(await renewPoller(this.deps.db, bot.id, token, this.options.leaseMs)))
              throw new PollerLeaseLost(bot.id);
            throw new TelegramConflictError('poller', bot, failure.description);
          case 'token':
            throw new TelegramTokenError(bot, failure.description);
          case 'request':
            throw new TelegramRequestError(
              `Telegram refused the request for bot ${bot.name}: ${failure.description}.`,
              {
                hint: 'Check --allowed-updates (update type names such as message,callback_query).',
              },
            );
          case 'flood':
            this.send({ type: 'flood', retryAfterMs: failure.retryAfterMs });
            await sleep(failure.retryAfterMs, signal);
            break;
          case 'outage': {
            this.outage ??= { since: Date.now(), failures: 0 };
            const waitMs = Math.min(maxMs, firstMs * 2 ** this.outage.failures);
            this.outage.failures += 1;
            if (this.outage.failures === 1)
              this.send({ type: 'outage', error: failure.description, retryInMs: waitMs });
            await sleep(waitMs, signal);
            break;
          }
        }
      }
    }
    return undefined;
  }
}

/** grammY types an API call's signal as the abort-controller package's; Node's works the same. */
function cast(signal: AbortSignal): Parameters<Api['getUpdates']>[1] {
  return signal as unknown as Parameters<Api['getUpdates']>[1];
}
