import { withApp } from '../src/cli/app.js';
import { globals, intFlag, newCommand } from '../src/cli/command.js';
import { paint, printJson, printTable, say } from '../src/cli/output.js';
import { firstLine } from '../src/failed/present.js';
import { requestJson } from '../src/gpt/present.js';
import { listRequests, REQUEST_STATUSES } from '../src/gpt/requests-store.js';
import { choiceFlag } from '../src/queue/names.js';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export default function command() {
  return newCommand(
    'gpt:requests',
    'List GPT requests, newest first, with their status, tokens, latency and error',
    'run gpt:requests --status failed --json',
  )
    .option(
      '--status <status>',
      `only this status: ${REQUEST_STATUSES.join(', ')}`,
      choiceFlag('--status', REQUEST_STATUSES),
    )
    .option(
      '--limit <n>',
      'at most this many (at most 1000)',
      intFlag('--limit', { min: 1, max: 1000 }),
      50,
    )
    .option('--json', 'print an array of requests (with the messages and the whole reply)')
    .action(async (opts) =>
      withApp(globals(opts), async (app) => {
        const rows = await listRequests(await app.db(), { status: opts.status, limit: opts.limit });
        if (opts.json) return printJson(rows.map(requestJson));
        if (rows.length === 0) return say('No GPT requests stored.');
        await printTable(
          ['Job', 'Model', 'Status', 'Tries', 'Tokens', 'Latency', 'Created at', 'Reply or error'],
          rows.map((r) => [
            r.jobId,
            r.model,
            r.status === 'failed' ? paint.red(r.status) : r.status,
            r.attempts,
            r.promptTokens === null ? '' : `${r.promptTokens}+${r.completionTokens ?? 0}`,
            r.latencyMs === null ? '' : `${r.latencyMs}ms`,
            iso(r.createdAt)!,
            firstLine(r.error ?? r.responseText ?? '', 60),
          ]),
        );
      }),
    );
}
