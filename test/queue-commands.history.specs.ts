/**
 * queue:history and queue:prune-history, run as an operator runs them. Run by a .sqlite and a
 * .pg file. Finished jobs are made the way they happen: `queue:work --stop-when-empty` on jobs
 * whose retention keeps them.
 *
 * Each command is a process that loads the config (tsx): a test that spawns five of them gets
 * a minute, for a loaded machine.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { insertAttempts, insertHistory, type HistoryRow } from '../src/history/store.js';
import { describeApp, tableRows, type Backend } from './queue-commands.fixture.js';

const CONFIG = `
import { defineConfig, defineJob, Permanent } from 'jobsmith';
import { z } from 'zod';

const payload = z.object({ n: z.number() });
export const double = defineJob({
  name: 'double.job',
  schema: payload,
  retain: { succeeded: '1h' },
  // A negative n fails for good.
  handle: (p: { n: number }) => {
    if (p.n < 0) throw new Permanent('boom ' + p.n);
    return { double: p.n * 2 };
  },
});
export const quiet = defineJob({ name: 'quiet.job', schema: payload, handle: () => 'not kept' });
export default defineConfig({
  jobs: [double, quiet],
  queues: { kept: { retain: { succeeded: '2h' } } },
});
`;

interface HistoryJson {
  id: string;
  connection: string;
  queue: string;
  name: string;
  status: string;
  attempts: number;
  payload: string;
  result: unknown;
  error: string | null;
  tags: string[];
  finished_at: string;
  runtime_ms: number | null;
  expires_at: string;
}

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

function row(id: string, overrides: Partial<HistoryRow> = {}): HistoryRow {
  const now = Date.now();
  return {
    connection: 'database',
    id,
    queue: 'old',
    name: 'double.job',
    status: 'succeeded',
    attempts: 1,
    payload: '{"n":0}',
    result: null,
    error: null,
    progress: null,
    tags: null,
    dispatched_at: null,
    started_at: now - 10,
    finished_at: now - 5,
    runtime_ms: 5,
    expires_at: now + 3_600_000,
    ...overrides,
  };
}

export function historySpecs(backend: Backend): void {
  describeApp(backend, 'queue:history', (app) => {
    beforeAll(() => writeFileSync(path.join(app().cwd, 'jobsmith.config.ts'), CONFIG));

    it('lists finished jobs newest first: successes its retention keeps, with results, and failures', async () => {
      const [doubled, failed] = await app().dispatch('double.job', [21, -3], ['--queue', 'h1']);
      // quiet.job keeps no successes; its queue here does.
      const [kept] = await app().dispatch('quiet.job', [2], ['--queue', 'kept']);
      await app().work('h1,kept');

      const rows = tableRows(await app().ok(['queue:history']));
      expect(rows[0]).toEqual([
        'ID',
        'Finished at',
        'Queue',
        'Name',
        'Status',
        'Attempts',
        'Runtime',
        'Result / error',
      ]);
      expect(
        rows
          .slice(1)
          .map((r) => [r[0], r[2], r[3], r[4], r[5], r[7]])
          .sort(),
      ).toEqual(
        [
          [doubled, 'h1', 'double.job', 'succeeded', '1', '{"double":42}'],
          [failed, 'h1', 'double.job', 'failed', '1', 'Permanent: boom -3'],
          [kept, 'kept', 'quiet.job', 'succeeded', '1', '"not kept"'],
        ].sort(),
      );
      const finished = rows.slice(1).map((r) => r[1]!);
      expect(finished.every((t) => ISO.test(t))).toBe(true);
      expect([...finished].sort().reverse()).toEqual(finished);
    }, 60_000);

    it('--json prints every field; filters by queue, name, status, since and tag; --limit bounds it', async () => {
      const all = await app().json<HistoryJson[]>(['queue:history', '--queue', 'h1']);
      expect(all).toHaveLength(2);
      const done = all.find((r) => r.status === 'succeeded')!;
      expect(done).toMatchObject({
        connection: 'database',
        queue: 'h1',
        status: 'succeeded',
        attempts: 1,
        payload: '{"n":21}',
        result: { double: 42 },
        error: null,
        tags: [],
      });
      expect(Date.parse(done.expires_at) - Date.parse(done.finished_at)).toBe(3_600_000);
      const names = async (args: string[]) =>
        (await app().json<HistoryJson[]>(['queue:history', ...args])).map((r) => r.name).sort();
      expect(await names(['--status', 'failed'])).toEqual(['double.job']);
      expect(await names(['--name', 'quiet.job', '--since', '1h'])).toEqual(['quiet.job']);
      const { knex } = await app().db();
      await insertHistory(knex, [
        row('t1', { tags: JSON.stringify(['post:42', 'user:1']) }),
        row('t2', { tags: JSON.stringify(['post:420']) }),
      ]);
      const tagged = await app().json<HistoryJson[]>(['queue:history', '--tag', 'post:42']);
      expect(tagged.map((r) => [r.id, r.tags])).toEqual([['t1', ['post:42', 'user:1']]]);
      const limited = await app().ok(['queue:history', '--limit', '1']);
      expect(limited.trim().split('\n').at(-1)).toBe(
        '4 more; narrow with --since, or raise --limit',
      );
    }, 60_000);

    it('says so when nothing matches, and refuses bad flags with exit 2', async () => {
      expect(await app().ok(['queue:history', '--queue', 'none'])).toBe(
        'No finished jobs in history.\n',
      );
      const status = await app().run(['queue:history', '--status', 'done']);
      expect(status.code).toBe(2);
      expect(status.stderr.split('\n')[0]).toBe(
        'Error: --status must be one of succeeded, failed, cancelled, got "done".',
      );
    });
  });

  describeApp(backend, 'queue:prune-history', (app) => {
    it('deletes the expired rows and their attempts only, and says how many (never asks)', async () => {
      const { knex } = await app().db();
      const past = Date.now() - 1000;
      await insertHistory(knex, [
        row('e1', { expires_at: past }),
        row('e2', { expires_at: past, status: 'failed' }),
        row('live'),
      ]);
      await insertAttempts(knex, [
        {
          connection: 'database',
          job_id: 'e2',
          attempt: 1,
          started_at: past - 100,
          ended_at: past - 50,
          outcome: 'released',
          error: 'x',
          expires_at: past,
        },
      ]);
      expect(await app().ok(['queue:prune-history'])).toBe(
        'Pruned 2 rows of expired job history and 1 row of attempts.\n',
      );
      expect((await knex('job_history').select('id')).map((r: { id: string }) => r.id)).toEqual([
        'live',
      ]);
    });

    it('--all deletes every row, only with --force where no terminal can answer', async () => {
      const refused = await app().run(['queue:prune-history', '--all']);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toBe(
        'Error: Delete every finished job from the history? Refusing without --force when no terminal is attached.\n' +
          'Pass --force to confirm.\n',
      );
      const lone = await app().run(['queue:prune-history', '--force']);
      expect(lone.code).toBe(2);
      expect(lone.stderr.split('\n')[0]).toBe(
        'Error: --force goes with --all: pruning expired rows never asks.',
      );
      const { knex } = await app().db();
      await insertHistory(knex, [row('f1', { status: 'failed' })]);
      expect(
        await app().ok(['queue:prune-history', '--all', '--status', 'failed', '--force']),
      ).toBe('Pruned 1 row of job history.\n');
      expect(await app().ok(['queue:prune-history', '--all', '--force'])).toBe(
        'Pruned 1 row of job history and 0 rows of attempts.\n',
      );
      expect(await knex('job_history').select('id')).toEqual([]);
    });
  });
}
