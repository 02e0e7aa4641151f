/**
 * The batch commands: batch:list, batch:show, batch:cancel, queue:prune-batches and
 * queue:retry-batch. Run by a .sqlite, a .pg and a .redis file; on Redis only what touches
 * Redis (queue:retry-batch pushes jobs there), the rest reads SQL storage as on SQLite.
 */
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { BATCH_CACHE_MS } from '../src/workflows/batches/cache.js';
import { dispatchBatch, seedBatch } from './batch-commands.fixture.js';
import { waitFor } from './helpers/wait.js';
import { describeApp, tableRows, type Backend, type QueueApp } from './queue-commands.fixture.js';

const HOUR = 3_600_000;
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

interface BatchJson {
  id: string;
  name: string | null;
  status: string;
  total: number;
  pending: number;
  cancelled_jobs?: number;
  processed: number;
  failed: number;
  progress: number;
  allow_failures: boolean;
  failed_job_ids: string[];
  callbacks: Record<
    string,
    { name: string; queue: string | null; ran_as_job: string | null } | null
  >;
  created_at: string;
  cancelled_at: string | null;
  finished_at: string | null;
  failed_jobs?: Array<Record<string, unknown>>;
}

async function knexOf(app: QueueApp) {
  return (await app.db()).knex;
}

/** An expected error: the exit code, the message on stderr, and no stack trace. */
async function fails(app: QueueApp, args: string[], code: number, message: string | RegExp) {
  const result = await app.run(args);
  expect(result.code, result.stderr).toBe(code);
  expect(result.stdout).toBe('');
  expect(result.stderr).toMatch(message);
  expect(result.stderr).not.toMatch(/\n\s+at /);
  return result.stderr;
}

export function batchCommandSpecs(backend: Backend): void {
  // The commands that read only the SQL tables are not defined on Redis (its file would skip
  // them, and in CI nothing skips): SQLite and PostgreSQL cover them.
  const describeSql: typeof describeApp = (_backend, name, fn) => {
    if (backend !== 'redis') describeApp(backend, name, fn);
  };

  describeSql(backend, 'batch:list and batch:show', (app) => {
    it('says so when there are no batches', async () => {
      expect(await app().ok(['batch:list'])).toBe('No batches.\n');
      expect(await app().json(['batch:list'])).toEqual([]);
    });

    let running: string;
    let finished: string;
    let cancelled: string;
    it('lists batches newest first with status, progress and counts', async () => {
      const knex = await knexOf(app());
      const now = Date.now();
      finished = await seedBatch(knex, {
        name: 'import',
        total: 4,
        pending: 0,
        createdAt: now - 3 * HOUR,
        finishedAt: now - 2 * HOUR,
      });
      cancelled = await seedBatch(knex, {
        name: 'newsletter',
        total: 10,
        pending: 7,
        failed: 1,
        failedJobIds: ['9001'],
        createdAt: now - 2 * HOUR,
        cancelledAt: now - HOUR,
      });
      running = await seedBatch(knex, {
        name: null,
        total: 3,
        pending: 2,
        createdAt: now - HOUR,
      });

      const rows = tableRows(await app().ok(['batch:list']));
      expect(rows[0]).toEqual([
        'ID',
        'Name',
        'Status',
        'Progress',
        'Total',
        'Pending',
        'Failed',
        'Created',
      ]);
      expect(rows.slice(1).map((r) => r.slice(0, 7))).toEqual([
        [running, '-', 'running', '33%', '3', '2', '0'],
        [cancelled, 'newsletter', 'cancelled', '30%', '10', '7', '1'],
        [finished, 'import', 'finished', '100%', '4', '0', '0'],
      ]);
      expect(rows.slice(1).every((r) => ISO.test(r[7]!))).toBe(true);
    });

    it('--json prints each batch; --limit and --after page through them', async () => {
      const all = await app().json<BatchJson[]>(['batch:list']);
      expect(all.map((b) => b.id)).toEqual([running, cancelled, finished]);
      expect(all[1]).toEqual({
        id: cancelled,
        name: 'newsletter',
        status: 'cancelled',
        total: 10,
        pending: 7,
        processed: 3,
        failed: 1,
        progress: 30,
        allow_failures: false,
        connection: null,
        failed_job_ids: ['9001'],
        callbacks: { then: null, catch: null, finally: null },
        created_at: expect.stringMatching(ISO),
        cancelled_at: expect.stringMatching(ISO),
        finished_at: null,
      });
      const first = await app().ok(['batch:list', '--limit', '2']);
      expect(first).toContain(`More; the next page: --after ${cancelled}`);
      const next = await app().json<BatchJson[]>([
        'batch:list',
        '--limit',
        '2',
        '--after',
        cancelled,
      ]);
      expect(next.map((b) => b.id)).toEqual([finished]);
      expect(await app().ok(['batch:list', '--after', finished])).toBe('No more batches.\n');
      // A mistyped id is not the end of the list.
      await fails(
        app(),
        ['batch:list', '--after', '2c08dd45-e96b-446e-a6bf-106cdae61763'],
        1,
        /Error: No batch with id "2c08dd45-e96b-446e-a6bf-106cdae61763"\./,
      );
    });

    it('batch:show prints progress, counts, callbacks and times', async () => {
      const knex = await knexOf(app());
      const id = await seedBatch(knex, {
        name: 'posts',
        total: 8,
        pending: 2,
        then: { name: 'ok.job', payload: { n: 1 } },
        allowFailures: true,
      });
      const settled = (jobId: string, outcome: string) =>
        ({ batch_id: id, job_id: jobId, outcome, settled_at: Date.now() }) as const;
      await knex('job_batch_jobs').insert([
        settled('1', 'succeeded'),
        settled('2', 'cancelled'),
        settled('3', 'cancelled'),
      ]);
      const out = await app().ok(['batch:show', id]);
      expect(out.split('\n').slice(0, 12)).toEqual([
        `Batch ${id}  posts`,
        'Status      running',
        'Progress    75% (6 of 8 jobs done, 2 of them cancelled)',
        'Pending     2',
        'Failed      0 (failures allowed)',
        'Connection  database (QUEUE_CONNECTION)',
        expect.stringMatching(/^Created {5}\d{4}-/),
        'Cancelled   -',
        'Finished    -',
        'Then        ok.job (not due: 2 jobs were cancelled)',
        'Catch       -',
        'Finally     -',
      ]);
      const json = await app().json<BatchJson>(['batch:show', id]);
      expect(json.callbacks.then).toEqual({ name: 'ok.job', queue: null, ran_as_job: null });
      expect(json.cancelled_jobs).toBe(2);
      expect(json.failed_jobs).toEqual([]);
    });

    it("batch:show lists the failed jobs with their failed_jobs row's error", async () => {
      const [a, b] = await app().fail('show-failed', [1, 2]);
      const knex = await knexOf(app());
      const id = await seedBatch(knex, {
        total: 3,
        pending: 0,
        failed: 3,
        failedJobIds: [a!.original_id!, b!.original_id!, '777777'],
        createdAt: Date.now() - HOUR,
        finishedAt: Date.now(),
        cancelledAt: Date.now(),
      });
      const out = await app().ok(['batch:show', id]);
      const rows = tableRows(out.slice(out.indexOf('\nJob') + 1));
      expect(rows).toEqual([
        ['Job', 'Failed job', 'Name', 'Failed at', 'Error'],
        [a!.original_id!, String(a!.id), 'boom.job', a!.failed_at, 'Permanent: boom 1'],
        [b!.original_id!, String(b!.id), 'boom.job', b!.failed_at, 'Permanent: boom 2'],
        ['777777', '-', '-', '-', '(not in failed_jobs: forgotten or pruned)'],
      ]);
      const json = await app().json<BatchJson>(['batch:show', id, '--failed', '1']);
      expect(json.failed_jobs).toEqual([
        {
          job_id: a!.original_id,
          failed_job_id: a!.id,
          name: 'boom.job',
          queue: 'show-failed',
          reason: 'error',
          error: 'Permanent: boom 1',
          failed_at: a!.failed_at,
        },
      ]);
      expect(json.failed_job_ids).toHaveLength(3);
      expect(await app().ok(['batch:show', id, '--failed', '1'])).toContain(
        '2 more failed jobs; --failed N shows more, --json lists every id.',
      );
    });

    it('an unknown id exits 1 with the fix; a malformed one exits 2', async () => {
      await fails(
        app(),
        ['batch:show', 'no-such-batch'],
        1,
        /Error: No batch with id "no-such-batch"\.\nRun `run batch:list` to see the batches/,
      );
      await fails(
        app(),
        ['batch:show', 'two words'],
        2,
        /A batch id is the id batch\(\) returned or batch:list shows \(a uuid\), got "two words"\./,
      );
      await fails(
        app(),
        ['batch:list', '--limit', '0'],
        2,
        /--limit must be a whole number from 1 to 1000, got "0"\./,
      );
    });
  });

  describeSql(backend, 'batch:cancel', (app) => {
    it('cancels a running batch once; a second cancel keeps the first time', async () => {
      const id = await seedBatch(await knexOf(app()), { total: 5, pending: 4 });
      expect(await app().ok(['batch:cancel', id])).toMatch(
        new RegExp(
          `^Cancelled batch ${id}: 4 jobs not finished: any not started yet are skipped when claimed, any running finish\\.\\n$`,
        ),
      );
      const first = await app().json<BatchJson>(['batch:show', id]);
      expect(first.status).toBe('cancelled');
      expect(first.cancelled_at).toMatch(ISO);
      const again = await app().json<{ cancelled: boolean; batch: BatchJson }>([
        'batch:cancel',
        id,
      ]);
      expect(again.cancelled).toBe(false);
      expect(again.batch.cancelled_at).toBe(first.cancelled_at);
      expect(await app().ok(['batch:cancel', id])).toBe(
        `Batch ${id} was already cancelled at ${first.cancelled_at}.\n`,
      );
    });

    it('leaves a finished batch as it is', async () => {
      const finishedAt = Date.now() - HOUR;
      const id = await seedBatch(await knexOf(app()), { total: 2, pending: 0, finishedAt });
      expect(await app().ok(['batch:cancel', id])).toBe(
        `Batch ${id} finished at ${new Date(finishedAt).toISOString()}: nothing left to cancel.\n`,
      );
      const json = await app().json<{ cancelled: boolean; batch: BatchJson }>(['batch:cancel', id]);
      expect(json.cancelled).toBe(false);
      expect(json.batch.status).toBe('finished');
      expect(json.batch.cancelled_at).toBeNull();
    });

    it('an unknown id exits 1', async () => {
      await fails(app(), ['batch:cancel', 'nope'], 1, /Error: No batch with id "nope"\./);
      await fails(app(), ['batch:cancel'], 2, /missing required argument 'id'/);
    });
  });

  describeSql(backend, 'queue:prune-batches', (app) => {
    it('prunes finished batches older than --hours (24 by default), with their outcomes', async () => {
      const knex = await knexOf(app());
      const now = Date.now();
      const old = await seedBatch(knex, {
        pending: 0,
        createdAt: now - 50 * HOUR,
        finishedAt: now - 49 * HOUR,
      });
      const day = await seedBatch(knex, {
        pending: 0,
        createdAt: now - 30 * HOUR,
        finishedAt: now - 25 * HOUR,
      });
      const recent = await seedBatch(knex, {
        pending: 0,
        createdAt: now - 3 * HOUR,
        finishedAt: now - 2 * HOUR,
      });
      const unfinished = await seedBatch(knex, { pending: 1, createdAt: now - 80 * HOUR });
      const cancelled = await seedBatch(knex, {
        pending: 1,
        createdAt: now - 60 * HOUR,
        cancelledAt: now - 59 * HOUR,
      });
      for (const batch_id of [old, day, recent])
        await knex('job_batch_jobs').insert({
          batch_id,
          job_id: '1',
          outcome: 'succeeded',
          settled_at: now,
        });

      expect(await app().json(['queue:prune-batches', '--hours', '48'])).toEqual({
        finished: 1,
        unfinished: 0,
        cancelled: 0,
      });
      expect(await app().ok(['queue:prune-batches'])).toBe(
        'Pruned 1 finished batch older than 24 hours.\n',
      );
      const left = (await knex('job_batches').pluck('id')) as string[];
      expect(left.sort()).toEqual([recent, unfinished, cancelled].sort());
      expect(await knex('job_batch_jobs').pluck('batch_id')).toEqual([recent]);

      expect(await app().ok(['queue:prune-batches', '--cancelled', '48'])).toBe(
        'Pruned 0 finished batches older than 24 hours, 1 cancelled batch older than 48 hours.\n',
      );
      expect(
        await app().json(['queue:prune-batches', '--unfinished', '72', '--cancelled', '1']),
      ).toEqual({
        finished: 0,
        unfinished: 1,
        cancelled: 0,
      });
      expect(await knex('job_batches').pluck('id')).toEqual([recent]);
    });

    it('a bad --hours exits 2', async () => {
      await fails(
        app(),
        ['queue:prune-batches', '--hours', 'x'],
        2,
        /--hours must be a whole number/,
      );
      await fails(
        app(),
        ['queue:prune-batches', '--unfinished', '-1'],
        2,
        /--unfinished must be a whole number/,
      );
    });
  });

  describeApp(backend, 'queue:retry-batch', (app) => {
    it("re-runs the batch's failed jobs as jobs of the batch, which then finishes and runs then once", async () => {
      const { id } = await dispatchBatch(
        app(),
        'rb',
        [
          { name: 'ok.job', n: 1 },
          { name: 'flaky.job', n: 2 },
          { name: 'flaky.job', n: 3 },
        ],
        { then: { name: 'ok.job', payload: { n: 100 } }, allowFailures: true },
      );
      await app().work('rb');
      const failed = await app().json<BatchJson>(['batch:show', id]);
      expect(failed).toMatchObject({ status: 'finished', pending: 0, failed: 2 });
      expect(failed.failed_jobs!.map((f) => f.error)).toEqual([
        'Permanent: not fixed 2',
        'Permanent: not fixed 3',
      ]);
      expect(failed.callbacks.then!.ran_as_job).toBeNull();

      writeFileSync(path.join(app().cwd, 'fixed'), '');
      try {
        const out = await app().ok(['queue:retry-batch', id]);
        expect(out).toMatch(/^Retried {2}#\d+ flaky\.job on \w+\/rb \(was job #\S+\) → job #\S+\n/);
        expect(out).toContain(`Retried 2 failed jobs of batch ${id}.\n`);
        const back = await app().json<BatchJson>(['batch:show', id]);
        expect(back).toMatchObject({
          status: 'running',
          pending: 2,
          failed: 0,
          failed_job_ids: [],
          finished_at: null,
        });
        expect(await app().failed('rb')).toEqual([]);

        await app().work('rb');
      } finally {
        rmSync(path.join(app().cwd, 'fixed'));
      }
      const done = await app().json<BatchJson>(['batch:show', id]);
      expect(done).toMatchObject({ status: 'finished', pending: 0, failed: 0, progress: 100 });
      expect(done.callbacks.then!.ran_as_job).toEqual(expect.any(String));
      const runs = app().runs();
      expect(runs.filter((r) => r.startsWith('flaky.job')).sort()).toEqual([
        'flaky.job:2',
        'flaky.job:3',
      ]);
      expect(runs.filter((r) => r === 'ok.job:100')).toHaveLength(1);

      expect(await app().ok(['queue:retry-batch', id])).toBe(
        `Retried 0 failed jobs of batch ${id}.\n`,
      );
    });

    it('resumes a batch its first failure cancelled; its skipped jobs stay cancelled and then does not run', async () => {
      const { id } = await dispatchBatch(
        app(),
        'rb-cancel',
        [
          { name: 'flaky.job', n: 4 },
          { name: 'ok.job', n: 5 },
        ],
        { then: { name: 'ok.job', payload: { n: 101 } } },
      );
      await app().work('rb-cancel');
      expect(await app().json<BatchJson>(['batch:show', id])).toMatchObject({
        status: 'cancelled',
        pending: 0,
        failed: 1,
      });

      writeFileSync(path.join(app().cwd, 'fixed'), '');
      try {
        const json = await app().json<{
          resumed: boolean;
          cancelled_jobs: number;
          retried: unknown[];
          batch: BatchJson;
        }>(['queue:retry-batch', id]);
        expect(json.resumed).toBe(true);
        expect(json.cancelled_jobs).toBe(1);
        expect(json.retried).toHaveLength(1);
        expect(json.batch).toMatchObject({
          status: 'running',
          pending: 1,
          failed: 0,
          cancelled_at: null,
        });
        // A worker reads a batch's row at most once a BATCH_CACHE_MS: the commands share one
        // process (test/helpers/cli-host.ts), so this worker may still hold the row it read as
        // cancelled. Past that time it reads the row again, as a long-running worker does.
        const [last] = (await (
          await knexOf(app())
        )('job_batch_jobs')
          .where({ batch_id: id })
          .max({ at: 'settled_at' })) as Array<{ at: unknown }>;
        await waitFor(() => Date.now() - Number(last!.at) > BATCH_CACHE_MS, { timeoutMs: 5000 });
        await app().work('rb-cancel');
      } finally {
        rmSync(path.join(app().cwd, 'fixed'));
      }
      const done = await app().json<BatchJson>(['batch:show', id]);
      expect(done).toMatchObject({ status: 'finished', pending: 0, failed: 0 });
      expect(done.callbacks.then!.ran_as_job).toBeNull();
      const runs = app().runs();
      expect(runs).toContain('flaky.job:4');
      expect(runs).not.toContain('ok.job:5');
      expect(runs).not.toContain('ok.job:101');
      expect(await app().ok(['batch:show', id])).toMatch(
        /\nThen +ok\.job on rb-cancel \(not due: 1 job was cancelled\)\n/,
      );
    });

    it('exits 1 naming the failed jobs no longer in failed_jobs; retries the others', async () => {
      const { id } = await dispatchBatch(
        app(),
        'rb-gone',
        [
          { name: 'boom.job', n: 1 },
          { name: 'boom.job', n: 2 },
        ],
        { allowFailures: true },
      );
      await app().work('rb-gone');
      const [first] = await app().failed('rb-gone');
      await app().ok(['queue:forget', String(first!.id)]);
      const result = await app().run(['queue:retry-batch', id, '--json']);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(
        `Error: 1 failed job is no longer in failed_jobs (forgotten or pruned): #${first!.original_id}.`,
      );
      const json = JSON.parse(result.stdout) as {
        retried: unknown[];
        missing: string[];
        resumed: boolean;
        batch: BatchJson;
      };
      expect(json.retried).toHaveLength(1);
      expect(json.missing).toEqual([first!.original_id]);
      expect(json.resumed).toBe(false);
      expect(json.batch).toMatchObject({
        pending: 1,
        failed: 1,
        failed_job_ids: [first!.original_id],
      });
    });

    it('an unknown id exits 1', async () => {
      await fails(app(), ['queue:retry-batch', 'nope'], 1, /Error: No batch with id "nope"\./);
    });
  });
}
