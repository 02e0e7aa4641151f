/**
 * One bot's update queue and its long poll, with getUpdates' documented semantics
 * (https://core.telegram.org/bots/api#getupdates):
 *
 * - Updates wait in the queue until confirmed: a getUpdates with `offset` higher than an
 *   update's id confirms it. Unconfirmed updates are handed out again on every call.
 * - A negative `offset` keeps only the last -offset updates; all earlier ones are forgotten.
 * - `limit` 1-100 (default 100; out-of-range values are clamped); `timeout` in seconds (default
 *   0): with nothing to hand out, the request is held until an update arrives or the time passes
 *   (then `[]`). A client that disconnects ends its hold.
 * - `allowed_updates` is remembered until the next call that gives it; `[]` means the default,
 *   every type but chat_member, message_reaction and message_reaction_count. As on Telegram it
 *   only filters updates created after it is set: those already queued are still delivered.
 * - One long poll per bot: a new getUpdates ends the held one with 409 "terminated by other
 *   getUpdates request" (the request that arrives last wins, as on Telegram); while a webhook
 *   is set, getUpdates fails with 409 at once.
 * - Ids increase by one. `restartIds(from)` models Telegram choosing a random next id after a
 *   week without updates; an `offset` beyond the newest id ever issued (a client's offset from
 *   before such a restart) confirms nothing, so that client still receives the new updates.
 */
import type { Update } from 'grammy/types';
import { ApiError, badRequest, terminatedByOtherPoll, webhookActive } from './errors.js';

/** Every update type of Bot API 9: the keys an Update may carry besides update_id. */
export const UPDATE_TYPES = [
  'message',
  'edited_message',
  'channel_post',
  'edited_channel_post',
  'business_connection',
  'business_message',
  'edited_business_message',
  'deleted_business_messages',
  'message_reaction',
  'message_reaction_count',
  'inline_query',
  'chosen_inline_result',
  'callback_query',
  'shipping_query',
  'pre_checkout_query',
  'purchased_paid_media',
  'poll',
  'poll_answer',
  'my_chat_member',
  'chat_member',
  'chat_join_request',
  'chat_boost',
  'removed_chat_boost',
] as const;

/** Types Telegram sends only when asked for by name in allowed_updates. */
const OPT_IN_TYPES = new Set(['chat_member', 'message_reaction', 'message_reaction_count']);
const DEFAULT_ALLOWED = new Set<string>(UPDATE_TYPES.filter((type) => !OPT_IN_TYPES.has(type)));

/** The update's type: its one key besides update_id. */
export function updateType(update: object): string | undefined {
  return Object.keys(update).find((key) => key !== 'update_id');
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

export interface GetUpdatesParams {
  offset?: number;
  limit?: number;
  /** Seconds. */
  timeout?: number;
  allowed_updates?: unknown;
}

interface HeldPoll {
  limit: number;
  resolve(updates: Update[]): void;
  reject(error: ApiError): void;
  /** Stops the timer and the abort listener, and frees the bot's one poll slot. */
  done(): void;
}

export class UpdateQueue {
  private queue: Update[] = [];
  private nextId: number;
  /** The newest id handed out; an offset above newestIssued + 1 is stale. */
  private newestIssued: number;
  private allowed = DEFAULT_ALLOWED;
  private held?: HeldPoll;
  /** The webhook URL, '' when none (getUpdates works only then). */
  webhookUrl = '';

  constructor(firstId: number) {
    this.nextId = firstId;
    this.newestIssued = firstId - 1;
  }

  /** Whether a long poll is held now (waiting for an update or its timeout). */
  holding(): boolean {
    return this.held !== undefined;
  }

  /** Updates not yet confirmed, oldest first. */
  pending(): readonly Update[] {
    return this.queue;
  }

  /**
   * Queues an update with the next id and hands it to a held poll. Returns the update, or
   * `null` when allowed_updates filters its type out (Telegram does not create it then).
   */
  push(body: Record<string, unknown>): Update | null {
    const type = updateType(body);
    if (type === undefined || !(UPDATE_TYPES as readonly string[]).includes(type)) {
      throw new Error(
        `pushUpdate: ${JSON.stringify(type ?? null)} is not an update type; give one of ${UPDATE_TYPES.join(', ')}`,
      );
    }
    if (!this.allowed.has(type)) return null;
    const update = { update_id: this.nextId, ...body } as Update;
    this.newestIssued = this.nextId;
    this.nextId += 1;
    this.queue.push(update);
    this.wakeHeld();
    return update;
  }

  /** Ids continue from `from` (Telegram's restart after a week without updates). */
  restartIds(from: number): void {
    if (!Number.isSafeInteger(from) || from < 1) {
      throw new Error(`restartUpdateIds: ${from} is not a positive integer`);
    }
    if (this.queue.length > 0) {
      throw new Error(
        `restartUpdateIds: ${this.queue.length} updates are still unconfirmed; Telegram restarts ids only after a week without updates, so confirm them first (getUpdates with an offset past them)`,
      );
    }
    this.nextId = from;
  }

  /** Forgets every queued update (deleteWebhook / setWebhook with drop_pending_updates). */
  dropPending(): void {
    this.queue = [];
  }

  setWebhook(url: string): void {
    this.webhookUrl = url;
    if (url !== '' && this.held) {
      const held = this.held;
      this.held = undefined;
      held.reject(webhookActive());
    }
  }

  /** getUpdates. Resolves with the batch; `signal` ends a hold without an answer. */
  getUpdates(params: GetUpdatesParams, signal: AbortSignal): Promise<Update[]> {
    if (this.webhookUrl !== '') return Promise.reject(webhookActive());
    const limit = Math.min(100, Math.max(1, Math.trunc(params.limit ?? 100)));
    const timeout = Math.max(0, Number(params.timeout ?? 0));
    if (!Number.isFinite(timeout)) return Promise.reject(badRequest('wrong timeout specified'));
    const allowed = params.allowed_updates;
    if (allowed !== undefined && !isStringArray(allowed)) {
      return Promise.reject(badRequest("can't parse allowed updates"));
    }
    if (params.offset !== undefined) this.confirm(Math.trunc(params.offset));
    if (allowed !== undefined)
      this.allowed = allowed.length === 0 ? DEFAULT_ALLOWED : new Set(allowed);

    if (this.held) {
      const previous = this.held;
      this.held = undefined;
      previous.reject(terminatedByOtherPoll());
    }
    if (this.queue.length > 0 || timeout === 0) {
      return Promise.resolve(this.queue.slice(0, limit));
    }
    return new Promise<Update[]>((resolve, reject) => {
      const timer = setTimeout(() => held.resolve([]), timeout * 1000);
      // The client went away: answer nobody, but settle so the request's handler finishes.
      const onAbort = () => held.resolve([]);
      const held: HeldPoll = {
        limit,
        resolve: (updates) => {
          held.done();
          resolve(updates);
        },
        reject: (error) => {
          held.done();
          reject(error);
        },
        done: () => {
          clearTimeout(timer);
          signal.removeEventListener('abort', onAbort);
          if (this.held === held) this.held = undefined;
        },
      };
      this.held = held;
      signal.addEventListener('abort', onAbort);
      if (signal.aborted) onAbort();
    });
  }

  /** Ends a held poll as if its client went away (the server is closing). */
  endHeld(): void {
    this.held?.resolve([]);
  }

  private confirm(offset: number): void {
    if (offset < 0) {
      this.queue = this.queue.slice(offset);
      return;
    }
    // A stale offset from before an id restart must not swallow the new, lower ids.
    if (offset > this.newestIssued + 1) return;
    this.queue = this.queue.filter((update) => update.update_id >= offset);
  }

  private wakeHeld(): void {
    if (!this.held || this.queue.length === 0) return;
    const held = this.held;
    held.resolve(this.queue.slice(0, held.limit));
  }
}
