// The fake Bot API as its own process (test/doubles/telegram/serve.ts), as a benchmark or a
// person with curl uses it: the address on the first line, commands on stdin, SIGTERM stops it.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { Bot } from 'grammy';
import { expect, it } from 'vitest';
import { REPO_ROOT } from './helpers/cli.js';

it('serves on the address it prints, takes commands on stdin and stops on SIGTERM', async () => {
  const child = spawn(
    process.execPath,
    [
      path.join(REPO_ROOT, 'node_modules', 'jiti', 'lib', 'jiti-cli.mjs'),
      path.join(REPO_ROOT, 'test', 'doubles', 'telegram', 'serve.ts'),
      '--token',
      '4242:servetest',
    ],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  try {
    const lines = createInterface({ input: child.stdout });
    const iterator = lines[Symbol.asyncIterator]();
    const nextLine = async () => JSON.parse(String((await iterator.next()).value)) as unknown;

    const { apiRoot, tokens } = (await nextLine()) as { apiRoot: string; tokens: string[] };
    expect(apiRoot).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(tokens).toEqual(['4242:servetest']);

    const bot = new Bot('4242:servetest', { client: { apiRoot } });
    child.stdin.write('message 9 /start now\n');
    expect(await nextLine()).toMatchObject({ message: { chat: { id: 9 }, text: '/start now' } });
    const [update] = await bot.api.getUpdates({ timeout: 10 });
    await bot.api.sendMessage(9, 'hi', {
      reply_parameters: { message_id: update.message!.message_id },
    });
    child.stdin.write('stats\n');
    expect(await nextLine()).toMatchObject({ sent: 1, byChat: { '9': { sent: 1 } } });

    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    expect(await exited).toEqual([0, null]);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});
