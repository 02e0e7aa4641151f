#!/usr/bin/env node
// The quick-start demo: the example app's jobs on a fresh SQLite file, no services needed.
// Dispatches jobs (some succeed, one retries, one is delayed, one ends in failed jobs),
// works them to completion, and shows the failed jobs. Run with `npm run demo`.
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const app = fileURLToPath(new URL('./app/', import.meta.url));
const run = fileURLToPath(new URL('../bin/run', import.meta.url));
const env = {
  ...process.env,
  DB_CONNECTION: 'sqlite',
  DB_DATABASE: 'storage/demo.sqlite',
  QUEUE_CONNECTION: 'database',
};

// Bold on a terminal, as `run` itself paints: never with NO_COLOR or into a pipe.
const colour =
  process.env.FORCE_COLOR !== undefined || (process.stdout.isTTY && !process.env.NO_COLOR);
const bold = (text) => (colour ? `\x1b[1m${text}\x1b[0m` : text);

function step(title, args, input) {
  process.stdout.write(`\n${bold(`▸ ${title}`)}\n  $ run ${args.join(' ')}\n`);
  const result = spawnSync(process.execPath, [run, ...args], {
    cwd: app,
    env,
    stdio: [input ? 'pipe' : 'inherit', 'inherit', 'inherit'],
    input,
  });
  if (result.status !== 0) {
    process.stderr.write(`\nThe demo stopped: \`run ${args[0]}\` exited with ${result.status}.\n`);
    process.exit(1);
  }
}

rmSync(new URL('./app/storage/', import.meta.url), { recursive: true, force: true });
const soon = new Date(Date.now() + 3000).toISOString();
step('Create the SQLite database (storage/demo.sqlite)', ['migrate']);
step(
  'Dispatch three welcome emails (JSON lines on stdin, one transaction)',
  ['queue:dispatch', 'welcome.send'],
  [
    '{"userId":1,"email":"ada@example.com"}',
    '{"userId":2,"email":"grace@example.com"}',
    '{"userId":3,"email":"linus@example.com"}',
  ].join('\n'),
);
step('Dispatch a report that fails once, then succeeds on retry', [
  'queue:dispatch',
  'report.generate',
  '--payload',
  '{"reportId":"q3"}',
]);
step('Dispatch a reminder delayed by 3 seconds', [
  'queue:dispatch',
  'reminder.send',
  '--delay',
  '3s',
  '--payload',
  JSON.stringify({ userId: 1, dueAt: soon }),
]);
step('Dispatch an invoice charge that always fails (queue "billing")', [
  'queue:dispatch',
  'invoice.charge',
  '--payload',
  '{"invoiceId":7,"amountCents":1999}',
]);
step('Dispatch it again: unique jobs are deduplicated', [
  'queue:dispatch',
  'invoice.charge',
  '--payload',
  '{"invoiceId":7,"amountCents":1999}',
]);
step('Queue sizes', ['queue:size', 'default', 'billing']);
// 3 welcome + 2 report attempts + 1 reminder + 2 invoice attempts = 8 runs.
step('Work both queues until every job has run (billing first: strict priority)', [
  'queue:work',
  '--queue',
  'billing,default',
  '--concurrency',
  '2',
  '--max-jobs',
  '8',
  '--max-time',
  '60s',
  '--sleep',
  '250ms',
]);
step('The job that ran out of tries is in failed jobs', ['queue:failed']);
process.stdout.write(`
${bold('Done.')} Try next, from examples/app (the demo's jobs are in storage/demo.sqlite):
  DB_DATABASE=storage/demo.sqlite ../../bin/run queue:retry all   put failed jobs back on their queue
  DB_DATABASE=storage/demo.sqlite ../../bin/run queue:size        what waits where
  ../../bin/run queue:work --help                                 every worker flag
  ../../bin/run --help                                            every command
`);
