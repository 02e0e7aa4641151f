/**
 * A Telegram app for the intake tests: a scratch app (test/helpers/app.ts) whose config hands a
 * grammY Composer to `telegram.handler`, the fake Bot API (test/doubles/telegram) it talks to,
 * and helpers to read what happened. The handler appends `<update_id> <text>` to HANDLED_FILE for
 * each text message; the text `boom` throws until FIXED_FILE exists. telegram.update has one
 * try, so a failing handler fails its row at once.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createApp, type AppBackend, type TestApp } from './helpers/app.js';
import { startFakeBotApi, type FakeBotApi } from './doubles/telegram/index.js';

export const TELEGRAM_CONFIG = `
import { appendFileSync, existsSync } from 'node:fs';
import { Composer } from 'grammy';
import { defineConfig } from 'jobsmith';

const handler = new Composer();
handler.on('message:text', (ctx) => {
  if (ctx.message.text === 'boom' && !existsSync(process.env.FIXED_FILE!)) throw new Error('handler boom');
  appendFileSync(process.env.HANDLED_FILE!, \`\${ctx.update.update_id} \${ctx.message.text}\\n\`);
});

export default defineConfig({
  telegram: { handler },
  queues: { 'telegram-updates': { tries: 1, concurrency: 4 } },
});
`;

export interface TelegramApp {
  app: TestApp;
  api: FakeBotApi;
  /** The environment the CLI gets: the fake's API root and token, the handler's files. */
  env: Record<string, string>;
  handledFile: string;
  fixedFile: string;
  /** `<update_id> <text>` lines the handler wrote, in order. */
  handled(): string[];
  /** SQL on the app's storage. */
  rows(where?: string): Promise<Array<Record<string, unknown>>>;
  cleanup(): Promise<void>;
}

export async function createTelegramApp(backend: AppBackend): Promise<TelegramApp> {
  const app = await createApp(backend, TELEGRAM_CONFIG);
  const api = await startFakeBotApi({ chats: [42, 43] });
  const handledFile = path.join(app.cwd, 'handled.txt');
  const fixedFile = path.join(app.cwd, 'fixed');
  const env = {
    TELEGRAM_API_ROOT: api.apiRoot,
    TELEGRAM_BOT_TOKEN: api.token,
    HANDLED_FILE: handledFile,
    FIXED_FILE: fixedFile,
  };
  return {
    app,
    api,
    env,
    handledFile,
    fixedFile,
    handled: () =>
      existsSync(handledFile) ? readFileSync(handledFile, 'utf8').split('\n').filter(Boolean) : [],
    async rows(where = '1 = 1') {
      const db = await app.db();
      return db.knex('telegram_updates').whereRaw(where).orderBy('update_id').select();
    },
    async cleanup() {
      await api.close();
      await app.cleanup();
    },
  };
}
