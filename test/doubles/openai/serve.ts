/**
 * The fake OpenAI server as a process of its own (benchmarks, the demo, trying it by hand):
 * prints `{"baseURL":...,"apiKey":...}` on its first line, then takes commands on stdin, one a
 * line: `always KIND` (every later request gets that reply; `always success` to heal), `next N
 * KIND`, `stats` (prints `{"requests":n,"first":ms,"last":ms}`), `reset`. SIGTERM stops it.
 *
 *   node node_modules/jiti/lib/jiti-cli.mjs test/doubles/openai/serve.ts [--delay MS] [--port N]
 */
import { createInterface } from 'node:readline';
import { startFakeOpenAi, type Reply } from './index.js';

const arg = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? undefined : process.argv[i + 1];
};
const api = await startFakeOpenAi({
  delayMs: Number(arg('delay') ?? 0),
  port: Number(arg('port') ?? 0),
  apiKey: arg('key'),
});
process.stdout.write(`${JSON.stringify({ baseURL: api.baseURL, apiKey: api.apiKey })}\n`);
const stop = () => void api.close().then(() => process.exit(0));
process.once('SIGTERM', stop);

for await (const line of createInterface({ input: process.stdin })) {
  const [command, ...rest] = line.trim().split(/\s+/);
  if (command === 'always') api.replyAlways({ kind: rest[0] } as Reply);
  else if (command === 'next') api.replyNext(Number(rest[0]), { kind: rest[1] } as Reply);
  else if (command === 'reset') api.reset();
  else if (command === 'stats') {
    const at = api.requests.map((r) => r.at);
    process.stdout.write(
      `${JSON.stringify({ requests: at.length, first: Math.min(...at), last: Math.max(...at) })}\n`,
    );
  }
}
// stdin closed: the parent is gone.
stop();
