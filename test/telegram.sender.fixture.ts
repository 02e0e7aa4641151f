/**
 * An app for the sender tests: a scratch app (test/helpers/app.ts) with `telegram: {}` in its
 * config (so the sender's jobs and Telegram's default limits exist), the fake Bot API it sends
 * to, and helpers to dispatch many sends and to start sender processes (`run queue:work --queue
 * telegram`). The fake's windows are a little shorter than Telegram's (ARRIVAL_SLACK_MS): our
 * limits are kept where a job takes its token, the fake counts where the request arrives, and
 * two requests taken a second apart may arrive a little closer.
 */
import { createApp, type AppBackend, type TestApp } from './helpers/app.js';
import type { CliProcess } from './helpers/cli.js';
import { startFakeBotApi, type FakeBotApi } from './doubles/telegram/index.js';

export const SENDER_CONFIG = `
import { defineConfig } from 'jobsmith';

export default defineConfig({
  telegram: {},
  queues: { telegram: { concurrency: 10 } },
});
`;

/**
 * Slack the fake's windows give for the time between our slot and the request's arrival (ms). The
 * sender starts at most 100 ms after its slot (MAX_LATE_MS, counted from before the take) or not in
 * it; what is left is the way from there to the fake: grammY, the socket, the fake's event loop,
 * each a process on two cores shared with the rest of the suite. Three senders started together, 35
 * runs at a load average of 14 to 20 (with a core spinning in 28 of them): the closest 31 arrivals
 * 824 to 1052 ms apart, the closest two of one chat 845 to 1016 (the one traced left 67 ms after
 * its slot and reached the fake 197 ms after that, while sends of the other senders got there at
 * once: its process was not running). Before the sender bounded its lateness: 685 to 928, with
 * takes answered 280 ms late at the start; 5 of 9 runs with a core spinning failed at this slack
 * (and a whole-suite CI run once saw 31 within 750 ms). With 200 ms, a sender a third over the
 * limit (40 a second: 31 within 750 ms) still gets a 429.
 */
export const ARRIVAL_SLACK_MS = 200;

/**
 * The same slack for two sends of one chat, a second apart: its first send can arrive late (up to
 * MAX_LATE_MS after its slot, then the way to the fake) and its next on time. A quiet CI run on
 * Redis saw two sends of one chat arrive 732 ms apart (its earlier send late, the next on time).
 * With 300 ms, a sender at 1.5 sends a second to one chat (667 ms apart) still gets a 429. The
 * sender could book a chat's next slot from when its send started instead (closing note).
 */
export const CHAT_ARRIVAL_SLACK_MS = 300;

export interface SenderApp {
  app: TestApp;
  api: FakeBotApi;
  env: Record<string, string>;
  /** Stores telegram.send jobs, one per payload, through `run queue:dispatch` (stdin). */
  dispatch(payloads: unknown[], job?: string): Promise<void>;
  /** Starts a sender process. */
  sender(env?: Record<string, string>): CliProcess;
  rows(table: string, where?: string): Promise<Array<Record<string, unknown>>>;
  cleanup(): Promise<void>;
}

export async function createSenderApp(
  backend: AppBackend,
  options: { chats?: number[]; config?: string } = {},
): Promise<SenderApp> {
  const app = await createApp(backend, options.config ?? SENDER_CONFIG);
  const window = 1000 - ARRIVAL_SLACK_MS;
  const api = await startFakeBotApi({
    chats: options.chats ?? [],
    limits: {
      perBot: { count: 30, windowMs: window },
      privateChat: { count: 1, windowMs: 1000 - CHAT_ARRIVAL_SLACK_MS },
      groupChat: { count: 20, windowMs: 60_000 - ARRIVAL_SLACK_MS },
    },
  });
  // Quick retries for the 5xx cases; the classes themselves do not depend on the backoff.
  const env = {
    TELEGRAM_API_ROOT: api.apiRoot,
    TELEGRAM_BOT_TOKEN: api.token,
    QUEUE_TELEGRAM_BACKOFF: '1',
  };
  const processes: CliProcess[] = [];
  return {
    app,
    api,
    env,
    async dispatch(payloads, job = 'telegram.send') {
      const input = payloads.map((p) => JSON.stringify(p)).join('\n') + '\n';
      const result = await app.run(['queue:dispatch', job], { env, input });
      if (result.code !== 0) throw new Error(`queue:dispatch failed: ${result.stderr}`);
    },
    sender(extra = {}) {
      const child = app.spawn(['queue:work', '--queue', 'telegram', '--sleep', '200ms'], {
        env: { ...env, ...extra },
        timeoutMs: 120_000,
      });
      processes.push(child);
      return child;
    },
    async rows(table, where = '1 = 1') {
      const db = await app.db();
      return db.knex(table).whereRaw(where).select();
    },
    async cleanup() {
      await Promise.all(processes.map((p) => p.stop('SIGTERM', 5000).catch(() => undefined)));
      await api.close();
      await app.cleanup();
    },
  };
}

/** A sendMessage payload. */
export const message = (chat: number, text: string) => ({ params: { chat_id: chat, text } });
