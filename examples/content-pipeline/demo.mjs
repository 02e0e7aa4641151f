#!/usr/bin/env node
// The content pipeline demo: collect posts from two Telegram channels, deduplicate them, rewrite
// each with OpenAI and publish it to a channel, on a fresh SQLite file with no account, no key
// and no network.
// The channels are the tests' channels double (a JSON file the demo appends posts to), OpenAI is
// the tests' fake OpenAI server, and the publications and the admin's notices go to the tests'
// fake Bot API. The
// processes are the ones you would run: a worker of the pipeline's queues, and the scheduler's
// entries fired by hand with `run schedule:test`. Run with `npm run demo:pipeline`.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createJiti } from 'jiti';

const app = fileURLToPath(new URL('./', import.meta.url));
const run = fileURLToPath(new URL('../../bin/run', import.meta.url));
const jiti = createJiti(import.meta.url);
const { startFakeBotApi } = await jiti.import('../../test/doubles/telegram/index.ts');
const { startFakeOpenAi } = await jiti.import('../../test/doubles/openai/index.ts');
const { ChannelsFile } = await jiti.import('../../test/doubles/channels/index.ts');
const { openPipelineStore } = await jiti.import('./store.ts');

const TOKEN = '123456789:AAdemo_token_no_network_needed_0000';
const ADMIN = 1001;
// The channel the pipeline publishes to, as the fake Bot API knows it.
const CHANNEL = { id: -1001234567890, username: 'pipeline_demo' };
// Bounds: how long each stage may take, and each process to stop after SIGTERM.
const STAGE_MS = 30_000;
const STOP_MS = 15_000;

const colour =
  process.env.FORCE_COLOR !== undefined || (process.stdout.isTTY && !process.env.NO_COLOR);
const bold = (text) => (colour ? `\x1b[1m${text}\x1b[0m` : text);
const say = (line) => process.stdout.write(`${line}\n`);

const storage = mkdtempSync(path.join(tmpdir(), 'jobsmith-pipeline-demo-'));
const database = path.join(storage, 'pipeline.sqlite');
const channels = ChannelsFile.create(path.join(storage, 'channels.json'));
const bot = await startFakeBotApi({ tokens: [TOKEN], chats: [ADMIN] });
bot.addChat(CHANNEL.id, { type: 'channel', title: 'Pipeline demo', username: CHANNEL.username });
const openai = await startFakeOpenAi();
const env = {
  ...process.env,
  DB_CONNECTION: 'sqlite',
  DB_DATABASE: database,
  QUEUE_CONNECTION: 'database',
  LOG_FILE: path.join(storage, 'app.log'),
  TELEGRAM_BOT_TOKEN: TOKEN,
  TELEGRAM_API_ROOT: bot.apiRoot,
  OPENAI_API_KEY: openai.apiKey,
  OPENAI_BASE_URL: openai.baseURL,
  OPENAI_MODEL: 'gpt-4o-mini',
  PIPELINE_CHANNELS: '@tech_news,@world_digest',
  PIPELINE_ADMIN_CHAT: String(ADMIN),
  PIPELINE_TARGETS: `@${CHANNEL.username}`,
  // One publication at a time: posts reach the channel in the order they were rewritten.
  PIPELINE_PUBLISH_CONCURRENCY: '1',
  PIPELINE_CHANNELS_FILE: channels.path,
  PIPELINE_STORAGE_DIR: path.join(storage, 'pipeline'),
  // One rewrite at a time, so the fake model's replies below meet the posts in order; retries
  // after 0.2 s, 0.4 s... instead of 2 s, 4 s...
  PIPELINE_REWRITE_CONCURRENCY: '1',
  PIPELINE_BACKOFF_BASE: '0.2',
};
const children = [];

/** A long-running `run` command; each of its lines is printed after its name. */
function start(name, args) {
  say(`  ${bold(name.padEnd(8))} $ run ${args.join(' ')}`);
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
      if (line.trim()) say(`  ${name.padEnd(8)} │ ${line}`);
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

/** Polls `check` every 100 ms until it resolves to something, or fails naming `what`. */
async function waitFor(what, check, timeoutMs = STAGE_MS) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (interrupted) throw new DemoError('interrupted (Ctrl+C)');
    const value = await check();
    if (value) return value;
    for (const { name, child } of children) {
      if (child.exitCode !== null)
        throw new DemoError(`${name} exited with ${child.exitCode} while waiting for ${what}`);
    }
    if (Date.now() > deadline)
      throw new DemoError(`${what} did not happen within ${Math.ceil(timeoutMs / 1000)} s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function posted(channel, message) {
  const stored = channels.post(channel, message);
  const media = stored.media?.length ? `  [${stored.media.map((m) => m.kind).join(', ')}]` : '';
  const text = stored.text.length > 70 ? `${stored.text.slice(0, 70)}...` : stored.text;
  say(`  ${channel} #${stored.id}: ${text || '(no caption)'}${media}`);
}

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

let interrupted = false;
process.once('SIGINT', () => (interrupted = true));

let failure;
let store;
try {
  say(bold(`▸ A fresh SQLite database: ${database}`));
  step(['migrate']);
  store = await openPipelineStore({ env: { DB_DATABASE: database }, cwd: app });
  say(`\n${bold('▸ The collector runs every 5 minutes per channel of PIPELINE_CHANNELS')}`);
  step(['schedule:list']);

  say(`\n${bold('▸ The worker, its queues in priority order (supervisor runs it in production)')}`);
  start('worker', [
    'queue:work',
    '--queue',
    'rewrite,publish,collector,imagegen',
    '--sleep',
    '100ms',
  ]);

  // Posts are rewritten in the order the fake model's replies are queued: one phase at a time.
  // A phase ends when its posts are published (a channel takes one message every 3 s) or failed.
  const settled = (p) => p.stage === 'published' || p.status === 'failed';
  const phase = async (title, count) => {
    const posts = await waitFor(title, async () => {
      const all = await store.posts.list();
      return all.length === count && all.every(settled) ? all : undefined;
    });
    for (const p of posts.slice(shown)) {
      const what =
        p.status === 'failed'
          ? `failed: ${p.error.slice(0, 100)}...`
          : `"${p.rewritten.title}": ${p.rewritten.text}${p.imageId !== null ? ` (with image ${p.imageId}, drawn from "${p.rewritten.image_prompt}")` : ''}`;
      say(
        `  → post ${p.id} (${p.channel} #${p.messageId}, ${p.media.length} media)  ${p.status}/${p.stage}  ${what}`,
      );
    }
    shown = posts.length;
  };
  let shown = 0;

  say(
    `\n${bold('▸ 1. New posts in @tech_news (the channels double: no Telegram account needed)')}`,
  );
  posted('@tech_news', {
    text: 'A new chip doubles battery life.',
    media: [{ kind: 'photo', id: '9001' }],
  });
  posted('@tech_news', {
    text: 'Two photos from the launch',
    groupedId: '55',
    media: [{ kind: 'photo', id: '9002' }],
  });
  posted('@tech_news', { text: '', groupedId: '55', media: [{ kind: 'photo', id: '9003' }] });
  posted('@tech_news', { text: 'Quarterly numbers are out: revenue up 12%.' });
  // The fake model's replies, in order: a headline and a rewrite per post.
  for (const value of [
    {
      title: 'Battery life, doubled',
      text: 'A new chip lets phones run twice as long on one charge.',
      image_prompt: null,
    },
    { title: 'Launch day', text: 'Photos from the launch.', image_prompt: null },
    {
      title: 'Revenue up 12%',
      text: 'The quarter ended with revenue 12% higher than a year ago.',
      // This one asks for a picture: the image generator draws it (the fake images endpoint)
      // before the post is published with it.
      image_prompt: 'A rising bar chart, flat illustration',
    },
  ])
    openai.replyNext(1, { kind: 'json', value });
  say('  The scheduler fires the collector every 5 minutes; here, by hand:');
  step(['schedule:test', 'pipeline.collect:tech_news']);
  await phase('the posts of @tech_news rewritten', 3);

  say(`\n${bold('▸ 2. @world_digest reposts one of them, and posts its own')}`);
  posted('@world_digest', {
    text: 'A new  chip doubles battery life.',
    media: [{ kind: 'photo', id: '9001' }],
  });
  posted('@world_digest', { text: 'Rain is expected all week.' });
  // The model's first reply is not JSON: a generation error, asked again (the admin is told).
  openai.replyNext(1, { kind: 'invalid-json' });
  openai.replyNext(1, {
    kind: 'json',
    value: { title: 'A wet week', text: 'Expect rain every day this week.', image_prompt: null },
  });
  step(['schedule:test', 'pipeline.collect:world_digest']);
  await phase('the post of @world_digest rewritten', 4);
  say('  (the repost was recognised by its content: not stored, not rewritten)');

  say(`\n${bold('▸ 3. A post too long for the model')}`);
  posted('@world_digest', { text: 'A very long thread. '.repeat(40).trim() });
  openai.replyNext(1, { kind: 'context-length', max: 8192, tokens: 9120 });
  step(['schedule:test', 'pipeline.collect:world_digest']);
  await phase('the long post failed', 5);
  say(
    `  Requests to the model: ${openai.requests.length} (5 posts, one unusable reply asked again)`,
  );

  say(`\n${bold(`▸ What @${CHANNEL.username} got (the fake Bot API), in order`)}`);
  // The fake records each message of an album: one send of sendMediaGroup is one line here.
  const sends = [];
  for (const s of bot.sent.filter((m) => m.chatId === CHANNEL.id)) {
    const group = s.message.media_group_id;
    const last = sends.at(-1);
    if (group !== undefined && last?.group === group) last.items++;
    else sends.push({ ...s, group, items: 1 });
  }
  for (const s of sends)
    say(
      `  ${s.method}${s.items > 1 ? ` (${s.items} items)` : ''}: ${(s.message.text ?? s.message.caption ?? '').replace(/\n+/g, ' / ') || '(no caption)'}`,
    );

  say(`\n${bold(`▸ What the admin was told (the fake Bot API, chat ${ADMIN})`)}`);
  const notices = await waitFor('the notices', () => {
    const sent = bot.sent.filter((s) => s.chatId === ADMIN);
    return sent.length >= 2 ? sent : undefined;
  });
  for (const s of notices) say(`  ${s.message.text.slice(0, 160)}...`);

  say(`\n${bold('▸ The failed GPT request, as an operator finds it')}`);
  step(['gpt:requests', '--status', 'failed']);
} catch (error) {
  failure = error;
}

say(`\n${bold('▸ Stopping (SIGTERM)')}`);
const clean = await stopAll();
await store?.close();
await openai.close();
await bot.close();
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
  examples/content-pipeline/README.md     how it works, and how to run it on real channels
  examples/content-pipeline/.env.example  every setting
  run pipeline:republish ID               publish a post again
`);
