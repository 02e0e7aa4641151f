#!/usr/bin/env node
// The quick-start demo: the example app's Telegram bot (examples/app/bot.ts) on a fresh SQLite
// file, with no token and no network. It starts the fake Bot API of the tests
// (test/doubles/telegram), then the processes you would run in production: `run longpoll`,
// workers for the update and send queues, and `run scheduled:dispatch --watch`. Simulated users
// write /start, a message and `/remind 5s take a break`; the bot answers through the rate-limited
// sender, and the reminder arrives on time. Run with `npm run demo`.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createJiti } from 'jiti';

const app = fileURLToPath(new URL('./app/', import.meta.url));
const run = fileURLToPath(new URL('../bin/run', import.meta.url));
const jiti = createJiti(import.meta.url);
const { startFakeBotApi } = await jiti.import('../test/doubles/telegram/index.ts');

// A fake token of the shape @BotFather gives (the fake accepts exactly the tokens it is given).
const TOKEN = '123456789:AAdemo_token_no_network_needed_0000';
const ADA = 1001;
const GRACE = 1002;
// Bounds: how long each answer may take, and each process to stop after SIGTERM.
const ANSWER_MS = 20_000;
const STOP_MS = 15_000;

// Bold on a terminal, as `run` itself paints: never with NO_COLOR or into a pipe.
const colour =
  process.env.FORCE_COLOR !== undefined || (process.stdout.isTTY && !process.env.NO_COLOR);
const bold = (text) => (colour ? `\x1b[1m${text}\x1b[0m` : text);
const say = (line) => process.stdout.write(`${line}\n`);
const clock = (ms) => new Date(ms).toISOString().slice(11, 23);

const storage = mkdtempSync(path.join(tmpdir(), 'jobsmith-demo-'));
const database = path.join(storage, 'demo.sqlite');
const api = await startFakeBotApi({ tokens: [TOKEN], chats: [ADA, GRACE] });
const env = {
  ...process.env,
  DB_CONNECTION: 'sqlite',
  DB_DATABASE: database,
  QUEUE_CONNECTION: 'database',
  LOG_FILE: path.join(storage, 'app.log'),
  TELEGRAM_BOT_TOKEN: TOKEN,
  TELEGRAM_API_ROOT: api.apiRoot,
};
const children = [];

/** A long-running `run` command; each of its lines is printed after its name. */
function start(name, args) {
  say(`  ${bold(name.padEnd(10))} $ run ${args.join(' ')}`);
  const child = spawn(process.execPath, [run, ...args], {
    cwd: app,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on('line', (line) => {
      if (line.trim()) say(`  ${name.padEnd(10)} │ ${line}`);
    });
  }
  children.push({ name, child, exited });
  return child;
}

/** A one-off `run` command, its output shown as it comes. */
function step(args) {
  say(`  $ run ${args.join(' ')}`);
  const result = spawnSync(process.execPath, [run, ...args], { cwd: app, env, stdio: 'inherit' });
  if (result.status !== 0) throw new DemoError(`\`run ${args[0]}\` exited with ${result.status}`);
}

class DemoError extends Error {}

/** Polls `check` every 50 ms until it returns something, or fails naming `what`. */
async function waitFor(what, check, timeoutMs = ANSWER_MS) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (interrupted) throw new DemoError('interrupted (Ctrl+C)');
    const value = check();
    if (value) return value;
    for (const { name, child } of children) {
      if (child.exitCode !== null)
        throw new DemoError(`${name} exited with ${child.exitCode} while waiting for ${what}`);
    }
    if (Date.now() > deadline)
      throw new DemoError(`${what} did not arrive within ${Math.ceil(timeoutMs / 1000)} s`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A user writes to the bot; resolves with the bot's first message to that chat after it. */
async function userWrites(chatId, who, text) {
  const before = api.sent.length;
  say(`\n${bold(`▸ ${who} writes: ${text}`)}`);
  const pushedAt = Date.now();
  api.pushMessage(chatId, text, { id: chatId, first_name: who });
  const reply = await waitFor(`the bot's answer to ${JSON.stringify(text)}`, () =>
    api.sent.slice(before).find((entry) => entry.chatId === chatId),
  );
  say(`  bot → ${who}: ${reply.message.text}   (${reply.at - pushedAt} ms later)`);
  return reply;
}

/** SIGTERM to every process, then a bounded wait for each; true when all exited cleanly. */
async function stopAll() {
  for (const { child } of children) if (child.exitCode === null) child.kill('SIGTERM');
  let clean = true;
  for (const { name, child, exited } of children) {
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_MS);
    const { code, signal } = await exited;
    clearTimeout(timer);
    if (code !== 0) {
      clean = false;
      process.stderr.write(`${name} did not stop cleanly: ${signal ?? `exit code ${code}`}\n`);
    }
  }
  return clean;
}

// Ctrl+C reaches the children too (one process group); stop waiting and let them finish.
let interrupted = false;
process.once('SIGINT', () => (interrupted = true));

let failure;
try {
  say(bold(`▸ A fresh SQLite database: ${database}`));
  step(['migrate']);
  say(`\n${bold(`▸ The fake Telegram Bot API listens on ${api.apiRoot} (no network, no token)`)}`);
  say(bold('▸ The processes a bot runs in production (supervisor: examples/supervisor)'));
  start('longpoll', ['longpoll', '--timeout', '10s']);
  start('updates', ['queue:work', '--queue', 'telegram-updates', '--sleep', '100ms']);
  start('sender', ['queue:work', '--queue', 'telegram', '--sleep', '100ms']);
  start('scheduled', ['scheduled:dispatch', '--watch', '--sleep', '250ms']);
  await waitFor('the long poll', () => api.holding());

  await userWrites(ADA, 'Ada', '/start');
  await userWrites(ADA, 'Ada', 'hello, bot');
  const ack = await userWrites(GRACE, 'Grace', '/remind 5s take a break');
  const due = Date.parse(/remind you at (\S+)\./.exec(ack.message.text)?.[1] ?? '');
  if (Number.isNaN(due))
    throw new DemoError(`the /remind answer names no time: ${ack.message.text}`);
  const reminder = await waitFor(
    'the reminder',
    () => api.sent.find((entry) => entry.chatId === GRACE && entry.message.text?.startsWith('⏰')),
    due - Date.now() + ANSWER_MS,
  );
  say(`\n${bold('▸ The reminder')}`);
  say(`  due     ${clock(due)}`);
  say(`  arrived ${clock(reminder.at)}  (${reminder.at - due} ms after due: never before)`);
  if (reminder.at < due) throw new DemoError('the reminder arrived before it was due');

  say(`\n${bold('▸ Queue sizes')}`);
  step(['queue:size', 'telegram-updates', 'telegram']);
  say(`\n${bold(`▸ What the fake Telegram received (${api.sent.length} messages)`)}`);
  for (const entry of api.sent)
    say(`  ${clock(entry.at)}  ${entry.method} chat ${entry.chatId}: ${entry.message.text}`);
  const { tooManyRequests } = api.stats();
  say(`  429 answers (the sender waits retry_after, then sends again): ${tooManyRequests}`);
} catch (error) {
  failure = error;
}

say(`\n${bold('▸ Stopping (SIGTERM)')}`);
const clean = await stopAll();
await api.close();
if (failure) {
  process.stderr.write(
    `\nThe demo stopped: ${failure instanceof DemoError ? failure.message : failure.stack}.\n` +
      `Its storage and log are in ${storage}\n`,
  );
  process.exit(1);
}
if (!clean) {
  process.stderr.write(`\nThe demo ran, but a process did not stop cleanly (above).\n`);
  process.exit(1);
}
rmSync(storage, { recursive: true, force: true });
say(`
${bold('Done.')} Try next:
  examples/app/bot.ts                 the bot: grammY handlers, /remind calls scheduleTelegram
  docs/telegram.md                    the whole flow, with a real token
  examples/supervisor/workers.conf    the same processes under supervisor
  ../../bin/run --help                every command (from examples/app)
`);
