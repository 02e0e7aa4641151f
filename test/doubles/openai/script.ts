/**
 * The fake OpenAI server's scripted replies, one script per endpoint (chat, images): replies
 * queued for the next requests, then a standing one, then success.
 */

/** A reply script; `R` is the endpoint's reply type, `{ kind: 'success' }` its default. */
export interface ReplyScript<R> {
  /** The next `n` requests get `reply`, after the replies queued before it. */
  replyNext(n: number, reply: R): void;
  /** Every request after the queued ones gets `reply` (undefined: back to success). */
  replyAlways(reply: R | undefined): void;
  /** The reply for the request now: the next queued one, else the standing one, else success. */
  next(): R;
  /** Forgets the queued replies and the standing one. */
  clear(): void;
}

/** A new, empty script; `name` prefixes the error of a bad `replyNext` count. */
export function replyScript<R>(name: string, success: R): ReplyScript<R> {
  const queued: R[] = [];
  let always: R | undefined;
  return {
    replyNext(n, reply) {
      if (!Number.isInteger(n) || n < 1) throw new Error(`${name}: ${n} is not a positive integer`);
      for (let i = 0; i < n; i++) queued.push(reply);
    },
    replyAlways(reply) {
      always = reply;
    },
    next: () => queued.shift() ?? always ?? success,
    clear() {
      queued.length = 0;
      always = undefined;
    },
  };
}
