/**
 * Bad input to the queue:* operator commands: exit 2, and a message that names the flag (or
 * argument), the value and what is accepted. Validation happens before anything is opened, so
 * the working directory stays empty.
 */
import { readdirSync, realpathSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './helpers/cli.js';
import { appEnv } from './helpers/env.js';
import { tempDir, type TempDir } from './helpers/services.js';

let dir: TempDir;
let cwd: string;
beforeAll(() => {
  dir = tempDir('jobsmith-queue-flags-');
  cwd = realpathSync(dir.path);
});
afterAll(() => dir.cleanup());

const QUEUE = 'letters, digits and . _ - (at most 190 characters)';
const JOB = 'letters, digits and . _ : - (at most 190 characters)';
const SINCE =
  'an ISO 8601 date/time such as 2026-01-31T09:00:00Z, or a duration meaning "within the last" such as 30m, 2h or 1d';
const ID_HINT = 'Run `run queue:failed` to see the ids.';
const TIMER = 'at most 2147483647ms (about 24.8 days), the longest a timer can wait';

/** [arguments, the first line of stderr (after "Error: ")] */
const CASES: Array<[string[], string]> = [
  [
    ['queue:size', '--connection', 'nope'],
    '--connection must be one of database, redis, sync, got "nope".',
  ],
  [['queue:size', 'bad queue'], `Queue names must be ${QUEUE}; got "bad queue".`],
  [['queue:size', '--jsn'], "unknown option '--jsn'\n(Did you mean --json?)"],

  [['queue:list'], 'Give a queue, or --tag T to list the tagged jobs of every queue.'],
  [
    ['queue:list', 'default', '--state', 'done'],
    '--state must be one of pending, delayed, reserved, got "done".',
  ],
  [['queue:list', 'default', '--page', '0'], '--page must be a whole number ≥ 1, got "0".'],
  [
    ['queue:list', 'default', '--per-page', '1001'],
    '--per-page must be a whole number from 1 to 1000, got "1001".',
  ],
  [
    ['queue:list', 'default', '--per-page', 'ten'],
    '--per-page must be a whole number from 1 to 1000, got "ten".',
  ],
  [
    ['queue:list', 'default', '--connection', 'mysql'],
    '--connection must be one of database, redis, sync, got "mysql".',
  ],
  [['queue:list', 'a/b'], `Queue names must be ${QUEUE}; got "a/b".`],

  [['queue:failed', '--limit', '0'], '--limit must be a whole number from 1 to 1000, got "0".'],
  [
    ['queue:failed', '--limit', '5000'],
    '--limit must be a whole number from 1 to 1000, got "5000".',
  ],
  [['queue:failed', '--since', 'yesterday'], `--since must be ${SINCE}; got "yesterday".`],
  [['queue:failed', '--since', '2026-13-45'], `--since must be ${SINCE}; got "2026-13-45".`],
  [['queue:failed', '--queue', 'a b'], `--queue must be a queue name: ${QUEUE}; got "a b".`],
  [['queue:failed', '--name', ''], `--name must be a job name: ${JOB}; got "".`],
  [['queue:failed', '--after', '-1'], '--after must be a whole number ≥ 0, got "-1".'],

  [['queue:retry'], 'Say which failed jobs to retry: ids or uuids, or `all`.'],
  [['queue:retry', 'abc'], 'A failed job is given by its id (a number) or its uuid, got "abc".'],
  [['queue:retry', 'all', '3'], '`all` stands alone: give failed job ids or uuids, or `all`.'],
  [
    ['queue:retry', '3', '--queue', 'mail'],
    'Give failed job ids, or `all` and filters (--queue --name --range --since), not both.',
  ],
  [
    ['queue:retry', 'all', '--range', '5-1'],
    '--range must be a range of failed job ids FROM-TO with FROM ≤ TO, such as 1-5; got "5-1".',
  ],
  [
    ['queue:retry', 'all', '--range', '7'],
    '--range must be a range of failed job ids FROM-TO with FROM ≤ TO, such as 1-5; got "7".',
  ],
  [['queue:retry', 'all', '--since', 'soon'], `--since must be ${SINCE}; got "soon".`],
  [['queue:retry', 'all', '--name', 'a,b'], `--name must be a job name: ${JOB}; got "a,b".`],

  [['queue:forget'], "missing required argument 'id'"],
  [['queue:forget', 'last'], 'A failed job is given by its id (a number) or its uuid, got "last".'],
  [
    ['queue:forget', '1', '2'],
    "too many arguments for 'queue:forget'. Expected 1 argument but got 2.",
  ],

  [['queue:flush', '--hours', '-1'], '--hours must be a whole number from 0 to 876600, got "-1".'],
  [
    ['queue:flush', '--hours', '1.5'],
    '--hours must be a whole number from 0 to 876600, got "1.5".',
  ],

  [['queue:prune-failed'], "required option '--hours <n>' not specified"],
  [
    ['queue:prune-failed', '--hours', 'week'],
    '--hours must be a whole number from 0 to 876600, got "week".',
  ],

  [['queue:clear', '--queue', 'a,b'], `--queue must be a queue name: ${QUEUE}; got "a,b".`],
  [
    ['queue:clear', '--connection', 'x'],
    '--connection must be one of database, redis, sync, got "x".',
  ],

  [['queue:pause'], "missing required argument 'queues'"],
  [['queue:pause', 'ok', 'n?t'], `Queue names must be ${QUEUE}; got "n?t".`],
  [['queue:resume', '*'], `Queue names must be ${QUEUE}; got "*".`],

  [
    ['queue:restart', 'now'],
    "too many arguments for 'queue:restart'. Expected 0 arguments but got 1.",
  ],

  [['queue:monitor', 'default'], "required option '--max <n>' not specified"],
  [['queue:monitor', 'default', '--max', '-1'], '--max must be a whole number ≥ 0, got "-1".'],
  [['queue:monitor', 'default', '--max', 'lots'], '--max must be a whole number ≥ 0, got "lots".'],
  [['queue:monitor', '--max', '3'], "missing required argument 'queues'"],

  [
    ['queue:dispatch', 'hello', '--queue', 'x y'],
    `--queue must be a queue name: ${QUEUE}; got "x y".`,
  ],
  [
    ['queue:dispatch', 'hello', '--queue', 'a,b'],
    `--queue must be a queue name: ${QUEUE}; got "a,b".`,
  ],
  [
    ['queue:dispatch', 'hello', '--queue', "x'; drop table jobs;--"],
    `--queue must be a queue name: ${QUEUE}; got "x'; drop table jobs;--".`,
  ],
  [
    ['queue:dispatch', 'hello', '--queue', 'mail:high'],
    `--queue must be a queue name: ${QUEUE}; got "mail:high". No ":": Redis keeps it as its key separator.`,
  ],
  [
    ['queue:dispatch', 'hello', '--priority', '1048576'],
    '--priority must be a whole number from -1048575 to 1048575, got "1048576".',
  ],
  [
    ['queue:dispatch', 'hello', '--tries', '1000001'],
    '--tries must be a whole number from 1 to 1000000, got "1000001".',
  ],
  [
    ['queue:dispatch', 'hello', '--delay', '1s', '--at', '2030-01-01T00:00:00Z'],
    'Use either --delay or --at, not both.',
  ],
  [
    ['queue:dispatch', 'hello', '--delay', '36526d'],
    '--delay must be at most 100 years; got "36526d".',
  ],
  [
    ['queue:dispatch', 'hello', '--at', '5'],
    '--at must be an ISO 8601 date/time such as 2026-01-31T09:00:00Z, got "5".',
  ],
  [
    ['queue:dispatch', 'hello', '--connection', 'nope'],
    '--connection must be one of database, redis, sync, got "nope".',
  ],
  [
    ['queue:dispatch', 'no.such.job', '--payload', '{}'],
    'Unknown job "no.such.job". Registered jobs: none.',
  ],
  [['queue:work', '--timeout', '30d'], `--timeout must be ${TIMER}; got "30d".`],
  [['queue:work', '--sleep', '30d'], `--sleep must be ${TIMER}; got "30d".`],
  [['queue:work', '--lease', '90d'], `--lease must be ${TIMER}; got "90d".`],
  [['queue:work', '--grace', '25d'], `--grace must be ${TIMER}; got "25d".`],
  [
    ['queue:work', '--queue', 'high,x y'],
    `--queue must be a comma-separated list of queue names: ${QUEUE}; got "x y".`,
  ],
  [['schedule:work', '--grace', '30d'], `--grace must be ${TIMER}; got "30d".`],
  [
    ['queue:flush', '--hours', '876601'],
    '--hours must be a whole number from 0 to 876600, got "876601".',
  ],
  [
    ['queue:failed', '--since', '99999999999999999999d'],
    `--since must be ${SINCE}; got "99999999999999999999d".`,
  ],

  [
    ['queue:work', '--prefetch', 'many'],
    '--prefetch must be a whole number from 0 to 10000, got "many".',
  ],
  [
    ['queue:work', '--prefetch', '50', '--queue', 'high,low'],
    '--prefetch needs a worker of one queue, without --once or --max-jobs.',
  ],
  [
    ['queue:work', '--prefetch', '50', '--once'],
    '--prefetch needs a worker of one queue, without --once or --max-jobs.',
  ],
  [
    ['queue:work', 'sync'],
    'The sync connection runs each job when it is dispatched, so a worker has nothing to claim from it.',
  ],
  [
    ['queue:work', 'nosuchconn'],
    'The [connection] argument must be database or redis, got "nosuchconn".',
  ],
  [
    ['queue:work', '--storage-timeout', 'soon'],
    '--storage-timeout must be a duration, seconds (90) or a number with a unit: 500ms, 30s, 5m, 2h, 1d; got "soon".',
  ],
];

describe('bad input to the queue commands', () => {
  it.concurrent.for(CASES)(
    'run %j exits 2 and says what is wrong',
    async ([args, message], { expect }) => {
      const result = await runCli(args, { cwd, env: appEnv() });
      expect(result.code).toBe(2);
      expect(result.stdout).toBe('');
      expect(result.stderr.startsWith(`Error: ${message}\n`), result.stderr).toBe(true);
    },
  );

  it('queue:work sync says how to run a worker instead', async () => {
    const result = await runCli(['queue:work', 'sync'], { cwd, env: appEnv() });
    expect(result.stderr).toBe(
      'Error: The sync connection runs each job when it is dispatched, so a worker has nothing to claim from it.\n' +
        "Run `run queue:work database` or `run queue:work redis`, and dispatch to that connection (QUEUE_CONNECTION, or the job's `connection`).\n",
    );
  });

  it('queue:work with QUEUE_CONNECTION=sync is a configuration error (exit 1) with the same fix', async () => {
    const result = await runCli(['queue:work'], { cwd, env: appEnv({ QUEUE_CONNECTION: 'sync' }) });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      'Error: QUEUE_CONNECTION is sync, which runs each job when it is dispatched, so a worker has nothing to claim.\n' +
        "Run `run queue:work database` or `run queue:work redis`, and dispatch to that connection (QUEUE_CONNECTION, or the job's `connection`).\n",
    );
  });

  it('queue:dispatch of a built-in job the app does not set up says what to set (exit 2)', async () => {
    const result = await runCli(
      [
        'queue:dispatch',
        'mail.send',
        '--payload',
        '{"to":"a@example.com","subject":"s","text":"t"}',
      ],
      { cwd, env: appEnv() },
    );
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      'Error: "mail.send" is a built-in job this app does not set up.\n' +
        'To dispatch it, set MAIL_URL (or MAIL_HOST) and MAIL_FROM in its environment (docs/mail.md).\n',
    );
  });

  it('queue:dispatch of an unknown job from a folder with no config file says none was found', async () => {
    const result = await runCli(['queue:dispatch', 'greet', '--payload', '{}'], {
      cwd,
      env: appEnv(),
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      'Error: Unknown job "greet". Registered jobs: none.\n' +
        'No jobsmith.config.ts was found here: run from the folder that holds it, or pass --config PATH.\n',
    );
  });

  it('a failed job id that is not a number nor a uuid gets a hint', async () => {
    const result = await runCli(['queue:retry', '12x'], { cwd, env: appEnv() });
    expect(result.stderr).toBe(
      `Error: A failed job is given by its id (a number) or its uuid, got "12x".\n${ID_HINT}\n`,
    );
  });
});

describe('after all that bad input', () => {
  it('no storage was opened', () => {
    expect(readdirSync(cwd)).toEqual([]);
  });
});
