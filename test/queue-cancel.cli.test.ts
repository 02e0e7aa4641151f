/**
 * `run queue:cancel`, run as an operator runs it: waiting jobs deleted, a running one asked to
 * stop (its worker, another process, ends it cancelled), unknown ids and bad arguments.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { SqliteQueue } from '../src/queue/database/sqlite-queue.js';
import { waitFor } from './helpers/wait.js';
import { describeApp, type QueueApp } from './queue-commands.fixture.js';

/** A job that waits for its signal, as a cancellable handler should; its own config file. */
const WAITS_CONFIG = `
import { appendFileSync } from 'node:fs';
import { defineConfig, defineJob } from 'jobsmith';

export const waits = defineJob({
  name: 'waits.job',
  timeout: 60,
  async handle(_p: unknown, ctx) {
    await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve));
    appendFileSync('runs.log', 'waits.job:' + String(ctx.signal.reason) + '\\n');
    throw ctx.signal.reason;
  },
});
export default defineConfig({ jobs: [waits] });
`;

/*
 * SQLite only: what each driver does is the conformance suite's (test/conformance/cancel.test.ts);
 * this file covers the command. Jobs are pushed in-process, not with queue:dispatch, to keep it
 * fast; the commands under test run as processes.
 */
describeApp('sqlite', 'queue:cancel', (app) => {
  let driver: SqliteQueue | undefined;
  afterAll(() => driver?.close());

  /** Pushes `name` jobs on `queue` and returns their ids. */
  async function push(
    a: QueueApp,
    queue: string,
    name: string,
    ns: number[],
    delayMs = 0,
    tags?: string[],
  ): Promise<string[]> {
    await a.db(); // the file exists, migrated
    driver ??= new SqliteQueue({ filename: path.join(a.cwd, 'storage/database.sqlite') });
    const jobs = ns.map((n) => ({
      name,
      queue,
      payload: JSON.stringify({ n }),
      priority: 0,
      maxTries: 3,
      delayMs,
      ...(tags ? { tags } : {}),
    }));
    return (await driver.push(jobs)).map((r) => r.id);
  }
  it('deletes waiting jobs, asks a running one to stop, and exits 1 for an id no job has', async () => {
    const [a, b, held] = await push(app(), 'cx', 'ok.job', [1, 2, 4]);
    const [delayed] = await push(app(), 'cx', 'ok.job', [3], 3_600_000);
    await app().reserve(held!);

    const result = await app().run(['queue:cancel', a!, delayed!, held!, '999999', '--json']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout)).toEqual([
      { id: a, outcome: 'cancelled', name: 'ok.job', queue: 'cx', state: 'pending' },
      { id: delayed, outcome: 'cancelled', name: 'ok.job', queue: 'cx', state: 'delayed' },
      { id: held, outcome: 'cancel_requested' },
      { id: '999999', outcome: 'not_found' },
    ]);
    expect((await app().jobs('cx')).map((j) => j.id).sort()).toEqual([b, held].sort());
    const { knex } = await app().db();
    const [request] = await knex('job_cancels').where({ job_id: held });
    expect(request.reason).toMatch(/^run queue:cancel by .+@.+$/);

    const text = await app().run(['queue:cancel', b!, '--reason', 'a duplicate']);
    expect(text).toMatchObject({ code: 0, stderr: '' });
    expect(text.stdout).toBe(`Cancelled         #${b} ok.job (queue cx, was pending)\n`);
    const again = await app().run(['queue:cancel', held!, 'mail:7']);
    expect(again.code).toBe(1);
    expect(again.stdout).toBe(
      `Cancel requested  #${held} (running): its worker aborts its ctx.signal within a second; a handler that watches it stops\n` +
        'Not found         #mail:7: no waiting or running job has this id\n',
    );
  });

  it('--queue with --name cancels the waiting and running jobs of that name only', async () => {
    const [x, y] = await push(app(), 'cn', 'ok.job', [1, 2]);
    const [other] = await push(app(), 'cn', 'slow.job', [3]);
    await app().reserve(y!);
    const outcomes = await app().json(['queue:cancel', '--queue', 'cn', '--name', 'ok.job']);
    expect(outcomes).toEqual([
      { id: x, outcome: 'cancelled', name: 'ok.job', queue: 'cn', state: 'pending' },
      { id: y, outcome: 'cancel_requested' },
    ]);
    expect((await app().jobs('cn')).map((j) => j.id).sort()).toEqual([y, other].sort());
    expect(await app().ok(['queue:cancel', '--queue', 'cn', '--name', 'uniq.job'])).toBe(
      'No waiting or running uniq.job job in queue cn.\n',
    );
  });

  it('--tag cancels the live jobs with that tag, and the history keeps them as cancelled', async () => {
    const tagged = await push(app(), 'ct', 'ok.job', [1, 2], 0, ['post:42']);
    const [other] = await push(app(), 'ct', 'ok.job', [3], 0, ['post:43']);
    const outcomes = await app().json(['queue:cancel', '--tag', 'post:42']);
    expect(outcomes).toEqual(
      tagged.map((id) => ({
        id,
        outcome: 'cancelled',
        name: 'ok.job',
        queue: 'ct',
        state: 'pending',
      })),
    );
    expect((await app().jobs('ct')).map((j) => j.id)).toEqual([other]);
    const { knex } = await app().db();
    const rows = await knex('job_history').whereIn('id', tagged).orderBy('id');
    expect(rows.map((r) => [r.id, r.status])).toEqual(tagged.map((id) => [id, 'cancelled']));
    // Its timeline says it ended before it ran, not "attempt 0" with no start.
    const shown = await app().ok(['queue:show', tagged[0]!]);
    expect(shown).toMatch(/\n {2}\S+Z {2}cancelled before it ran \(run queue:cancel by [^)]+\)\n/);
    expect(shown).not.toContain('attempt 0');
    expect(await app().ok(['queue:cancel', '--tag', 'post:404'])).toBe(
      'No waiting or running job carries the tag post:404.\n',
    );
  });

  it('says what is missing or wrong, with exit code 2', async () => {
    const cases: Array<[string[], string]> = [
      [
        [],
        'Say which jobs to cancel: give their ids, --tag T (with --queue Q to look in one queue), or --queue Q --name N.',
      ],
      [['--queue', 'cn'], '--queue needs --name: the job name to cancel.'],
      [
        ['12', '--queue', 'cn', '--name', 'ok.job'],
        'Give job ids or --queue with --name, not both.',
      ],
      [['--tag', 'post:42', '12'], 'Give --tag alone (or with --queue), not with ids or --name.'],
    ];
    for (const [args, message] of cases) {
      const result = await app().run(['queue:cancel', ...args]);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stdout).toBe('');
      expect(result.stderr.split('\n')[0]).toBe(`Error: ${message}`);
      expect(result.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it('stops a job running in a worker process: it ends cancelled, not failed', async () => {
    const config = path.join(app().cwd, 'waits.config.ts');
    writeFileSync(config, WAITS_CONFIG);
    const worker = app().spawn(['queue:work', '--queue', 'cw', '--config', config]);
    try {
      const [id] = await push(app(), 'cw', 'waits.job', [1]);
      await worker.waitForOutput(/RUNNING/, 15_000);
      const cancel = await app().run(['queue:cancel', id!, '--config', config, '--reason', 'test']);
      expect(cancel).toMatchObject({ code: 0, stderr: '' });
      expect(cancel.stdout).toMatch(/^Cancel requested {2}#/);
      await worker.waitForOutput(/CANCELLED/, 5_000);
      expect(await app().jobs('cw')).toEqual([]);
      expect(await app().failed('cw')).toEqual([]);
      await waitFor(
        () =>
          app()
            .runs()
            .some((r) => r.startsWith('waits.job:')),
        {
          timeoutMs: 2_000,
        },
      );
      const lines = app()
        .runs()
        .filter((r) => r.startsWith('waits.job:'));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(
        new RegExp(
          `^waits\\.job:JobCancelledError: Job #${id} \\(waits\\.job\\) was cancelled: run queue:cancel by .+@.+: test$`,
        ),
      );
    } finally {
      await worker.stop();
    }
  });
});
