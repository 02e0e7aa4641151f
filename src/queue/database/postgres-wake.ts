import type pg from 'pg';
import { pgConnection } from '../../db/pg-url.js';
import { requireNative } from '../../util/native-require.js';
import { CHANNEL } from './postgres-sql.js';
import type { Row } from './postgres-settle.js';
import { untilDue } from './rows.js';

// Loaded with require, past any loader hooks of the app: see util/native-require.ts.
const Pg = requireNative<typeof pg>('pg');

/**
 * The PostgreSQL queue's waitForJobs: LISTEN/NOTIFY wakes an idle worker as soon as a job is
 * pushed; polling only covers delayed jobs (a wait ends when the next one is due) and a lost
 * LISTEN connection (which is re-opened with backoff, e.g. across a server restart).
 */
export class PostgresWake {
  private listener?: pg.Client;
  private listening?: Promise<void>;
  private closed = false;
  private readonly waiters = new Set<{ queues: string[]; wake: () => void }>();
  /** Notifications received so far, and the count at the last one for each queue. */
  private notifications = 0;
  private readonly notifiedAt = new Map<string, number>();
  /** `notifications` when the latest claim began; -1 if LISTEN was not up then. */
  private claimedAt = -1;
  /** performance.now() when the latest claim began, before its statement was sent. */
  private claimSentAt?: number;

  constructor(
    /** Connection string for the LISTEN connection (the pool cannot hold one). */
    private readonly url: string,
    /** The nextDue statement's rows for `queues` (postgres-sql.ts). */
    private readonly nextDue: (queues: string[]) => Promise<Row[]>,
  ) {}

  /** A claim begins: what the next wait counts as news comes after this. */
  claimBegins(): void {
    this.claimedAt = this.listener ? this.notifications : -1;
    this.claimSentAt = performance.now();
  }

  async wait(queues: string[], timeoutMs: number, signal: AbortSignal): Promise<void> {
    if (signal.aborted) return;
    // A NOTIFY sent before our LISTEN took effect, or between the last claim and this wait,
    // woke nobody: then look again (once listening) instead of sleeping through the push.
    const [due] = await this.nextDue(queues);
    const now = Number(due!.now);
    timeoutMs = untilDue(timeoutMs, now, due!.next === null ? null : Number(due!.next));
    // A job that came due after the latest claim looked (too early for it) is claimable now:
    // look again at once. The claim's own clock is not known here; `now` less the time since
    // the claim was sent is no later than it, so no such job is missed (one due just before
    // the claim and left there, by a global cap, costs at most one more claim).
    if (this.claimSentAt !== undefined && due!.latest !== null) {
      const claimAtOrAfter = now - (performance.now() - this.claimSentAt);
      if (Number(due!.latest) > claimAtOrAfter) timeoutMs = 0;
    }
    if (signal.aborted) return;
    const since = this.claimedAt;
    const missed = since < 0 || queues.some((q) => (this.notifiedAt.get(q) ?? 0) > since);
    const listening = this.listen();
    await new Promise<void>((resolve) => {
      const waiter = { queues, wake: () => done() };
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.waiters.delete(waiter);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      signal.addEventListener('abort', done);
      if (missed && !this.closed) void listening.then(done);
      else this.waiters.add(waiter);
    });
  }

  /** Opens the LISTEN connection once; on error it is dropped and re-opened on next wait. */
  private listen(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.listening ??= (async () => {
      const client = new Pg.Client({ ...pgConnection(this.url), connectionTimeoutMillis: 5000 });
      const drop = () => {
        if (this.listener === client) this.listener = undefined;
        this.listening = undefined;
        client.removeAllListeners('notification');
        void client.end().catch(() => {});
        // Wake everyone: after a lost connection, a poll is the safe thing to do.
        for (const w of [...this.waiters]) w.wake();
      };
      client.on('error', drop);
      client.on('end', drop);
      client.on('notification', (msg) => {
        const pushed = (msg.payload ?? '').split(',');
        this.notifications++;
        for (const q of pushed) this.notifiedAt.set(q, this.notifications);
        for (const w of [...this.waiters]) {
          if (w.queues.some((q) => pushed.includes(q))) w.wake();
        }
      });
      try {
        await client.connect();
        await client.query(`listen ${CHANNEL}`);
        // close() ran while we connected: it could not end this client, so end it here, or
        // the open socket would keep the process alive.
        if (this.closed) return void (await client.end().catch(() => {}));
        this.listener = client;
      } catch {
        // Retried on the next wait; polling covers the gap.
        await new Promise((r) => setTimeout(r, 1000));
        drop();
      }
    })();
    return this.listening;
  }

  /** Ends every wait and the LISTEN connection, which is not opened again. */
  async close(): Promise<void> {
    this.closed = true;
    for (const w of [...this.waiters]) w.wake();
    const client = this.listener;
    this.listener = undefined;
    await client?.end().catch(() => {});
  }
}
