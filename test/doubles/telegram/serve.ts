/**
 * The fake Bot API as a process of its own, for a benchmark that keeps the server off its own
 * event loop, or to try a bot by hand with curl:
 *
 *   node node_modules/jiti/lib/jiti-cli.mjs test/doubles/telegram/serve.ts \
 *     [--port N] [--token T]... [--accept-any-chat] [--no-limits]
 *
 * Prints one JSON line, `{"apiRoot":"http://127.0.0.1:PORT","tokens":[...]}`, then reads
 * commands on stdin, one a line, acting on the first bot:
 *
 *   message CHAT_ID TEXT...    a user's message (a /command too)
 *   block CHAT_ID | unblock CHAT_ID | migrate CHAT_ID NEW_ID
 *   fail N STATUS              the next N calls fail with STATUS (or `reset`)
 *   sent | stats               print the sends / the counts as one JSON line
 *
 * SIGTERM, SIGINT or the end of stdin stops it.
 */
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { startFakeBotApi, type FakeBotApi } from './index.js';

function runCommand(api: FakeBotApi, line: string): unknown {
  const [command, ...args] = line.trim().split(/\s+/);
  const chatId = Number(args[0]);
  switch (command) {
    case 'message':
      return api.pushMessage(chatId, args.slice(1).join(' '));
    case 'block':
      return api.block(chatId);
    case 'unblock':
      return api.unblock(chatId);
    case 'migrate':
      return api.migrate(chatId, Number(args[1]));
    case 'fail':
      return api.failNext(Number(args[0]), args[1] === 'reset' ? 'reset' : Number(args[1] ?? 502));
    case 'sent':
      return api.sent;
    case 'stats':
      return { ...api.stats(), byChat: Object.fromEntries(api.stats().byChat) };
    case '':
    case undefined:
      return undefined;
    default:
      throw new Error(
        `unknown command ${JSON.stringify(command)}; use message, block, unblock, migrate, fail, sent or stats`,
      );
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '0' },
      token: { type: 'string', multiple: true },
      'accept-any-chat': { type: 'boolean', default: false },
      'no-limits': { type: 'boolean', default: false },
    },
  });
  const api = await startFakeBotApi({
    port: Number(values.port),
    tokens: values.token?.length ? values.token : 1,
    acceptAnyChat: values['accept-any-chat'],
    limits: values['no-limits']
      ? { perBot: false, privateChat: false, groupChat: false }
      : undefined,
  });
  process.stdout.write(`${JSON.stringify({ apiRoot: api.apiRoot, tokens: api.tokens })}\n`);

  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    void api.close().then(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  const lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    try {
      const result = runCommand(api, line);
      if (result !== undefined) process.stdout.write(`${JSON.stringify(result)}\n`);
    } catch (error) {
      process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    }
  });
  lines.on('close', stop);
}

void main();
