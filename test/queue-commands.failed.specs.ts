/**
 * The failed-job commands: queue:failed, queue:retry, queue:forget, queue:flush and
 * queue:prune-failed. Run by a .sqlite and a .pg file. Failed jobs are made the way they happen:
 * a handler throws Permanent and `queue:work --stop-when-empty` records them.
 */
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import {
  describeApp,
  tableRows,
  type Backend,
  type FailedJson,
  type QueueApp,
} from './queue-commands.fixture.js';
import { deleteRedisKeys, redisAvailable, redisPrefix, redisUrl } from './helpers/services.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

const retriedLines = (stdout: string) =>
  stdout.split('\n').filter((l) => l.startsWith('Retried  #'));

export function failedSpecs(backend: Backend): void {
  describeApp(backend, 'queue:failed', (app) => {
    let oldId: number;
    it('lists failed jobs oldest first, with the first line of each exception', async () => {
      await app().dispatch('boom.job', [1, 2], ['--queue', 'fa']);
      await app().dispatch('boom.job', [3], ['--queue', 'fb']);
      await app().work('fa,fb');
      oldId = await app().insertOldFailed('fa', 3);

      const rows = tableRows(await app().ok(['queue:failed']));
      expect(rows[0]).toEqual([
        'ID',
        'Failed at',
        'Connection',
        'Queue',
        'Name',
        'Attempts',
        'Reason',
        'Exception',
      ]);
      expect(rows.slice(1).map((r) => [r[2], r[3], r[4], r[5], r[6], r[7]])).toEqual([
        ['database', 'fa', 'boom.job', '1', 'error', 'Permanent: boom 1'],
        ['database', 'fa', 'boom.job', '1', 'error', 'Permanent: boom 2'],
        ['database', 'fb', 'boom.job', '1', 'error', 'Permanent: boom 3'],
        ['database', 'fa', 'boom.job', '5', 'error', 'Error: failed 3 hours ago'],
      ]);
      expect(rows.slice(1).map((r) => Number(r[0]))).toEqual(
        [...rows.slice(1).map((r) => Number(r[0]))].sort((a, b) => a - b),
      );
      expect(rows.slice(1).every((r) => ISO.test(r[1]!))).toBe(true);
    });

    it('--json prints every field of each failed job', async () => {
      const all = await app().json<FailedJson[]>(['queue:failed']);
      expect(all).toHaveLength(4);
      expect(all[0]).toEqual({
        id: expect.any(Number),
        uuid: expect.stringMatching(UUID),
        connection: 'database',
        queue: 'fa',
        name: 'boom.job',
        attempts: 1,
        priority: 0,
        reason: 'error',
        exception: expect.stringMatching(/^Permanent: boom 1\n\s+at /),
        payload: '{"n":1}',
        original_id: expect.any(String),
        failed_at: expect.stringMatching(ISO),
      });
      expect(Math.abs(Date.parse(all[0]!.failed_at) - Date.now())).toBeLessThan(60_000);
      expect(all[3]!.id).toBe(oldId);
    });

    it('filters by queue, name and since (a date, or a duration meaning within the last)', async () => {
      const payloads = async (args: string[]) =>
        (await app().json<Array<{ payload: string }>>(['queue:failed', ...args])).map(
          (r) => JSON.parse(r.payload).n,
        );
      // Read-only: the listings run side by side.
      const cases: Array<[string[], number[]]> = [
        [
          ['--queue', 'fa'],
          [1, 2, 0],
        ],
        [['--queue', 'fb'], [3]],
        [['--name', 'ok.job'], []],
        [
          ['--name', 'boom.job'],
          [1, 2, 3, 0],
        ],
        [
          ['--since', '2h'],
          [1, 2, 3],
        ],
        [
          ['--since', '4h'],
          [1, 2, 3, 0],
        ],
        [
          ['--since', new Date(Date.now() - 3_600_000).toISOString()],
          [1, 2, 3],
        ],
        [['--since', new Date(Date.now() + 60_000).toISOString()], []],
        [
          ['--queue', 'fa', '--since', '2h'],
          [1, 2],
        ],
      ];
      const results = await Promise.all(cases.map(([args]) => payloads(args)));
      expect(results).toEqual(cases.map(([, expected]) => expected));
    });

    it('--limit and --after page through them', async () => {
      const all = await app().failed();
      const ids = all.map((r) => r.id);
      const first = await app().json<Array<{ id: number }>>(['queue:failed', '--limit', '2']);
      expect(first.map((r) => r.id)).toEqual(ids.slice(0, 2));
      const table = await app().ok(['queue:failed', '--limit', '2']);
      expect(table.endsWith(`2 more; the next page: --after ${ids[1]}\n`)).toBe(true);
      const next = await app().json<Array<{ id: number }>>([
        'queue:failed',
        '--after',
        String(ids[1]),
      ]);
      expect(next.map((r) => r.id)).toEqual(ids.slice(2));
      expect(await app().ok(['queue:failed', '--queue', 'none'])).toBe('No failed jobs.\n');
    });
  });

  describeApp(backend, 'queue:retry', (app) => {
    it('retries a failed job by id or uuid: fresh attempts, its priority, the tries of its job', async () => {
      await app().dispatch('boom.job', [11], ['--queue', 'r1', '--priority', '7']);
      await app().dispatch('boom.job', [12], ['--queue', 'r1']);
      await app().work('r1');
      const [f11, f12] = await app().failed('r1');
      expect(JSON.parse(f11!.payload)).toEqual({ n: 11 });
      expect(f11!.priority).toBe(7);

      const out = await app().ok(['queue:retry', String(f11!.id)]);
      const [job] = await app().jobs('r1');
      expect(out).toBe(
        `Retried  #${f11!.id} boom.job on database/r1 → job #${job!.id}\nRetried 1 failed job.\n`,
      );
      expect(job).toMatchObject({
        name: 'boom.job',
        queue: 'r1',
        priority: 7,
        attempts: 0,
        max_tries: 5,
        payload: '{"n":11}',
        last_error: null,
      });
      expect((await app().failed('r1')).map((r) => r.id)).toEqual([f12!.id]);

      expect(retriedLines(await app().ok(['queue:retry', f12!.uuid]))).toHaveLength(1);
      expect(await app().failed('r1')).toEqual([]);
      expect((await app().jobs('r1')).map((j) => j.payload)).toEqual(['{"n":11}', '{"n":12}']);
    });

    it('names the ids it cannot find and exits 1, after retrying the others', async () => {
      const [f] = await app().fail('r5', [51]);
      const result = await app().run(['queue:retry', String(f!.id), '999999']);
      expect(result.code).toBe(1);
      expect(result.stdout.endsWith('Retried 1 failed job.\n')).toBe(true);
      expect(result.stderr).toBe(
        'Error: No failed job with id or uuid "999999".\nRun `run queue:failed` to see the failed jobs.\n',
      );
      expect(await app().failed('r5')).toEqual([]);
      expect(await app().jobs('r5')).toHaveLength(1);
    });

    it('retries a range of ids, and all the failed jobs of one queue', async () => {
      const [a, b, c] = await app().fail('r2', [21, 22, 23]);
      await app().fail('r3', [31]);

      const ranged = await app().ok(['queue:retry', '--range', `${a!.id}-${b!.id}`]);
      expect(ranged.endsWith('Retried 2 failed jobs.\n')).toBe(true);
      expect((await app().failed('r2')).map((r) => r.id)).toEqual([c!.id]);

      const all = await app().ok(['queue:retry', 'all', '--queue', 'r2']);
      expect(all.endsWith('Retried 1 failed job.\n')).toBe(true);
      expect(await app().failed('r2')).toEqual([]);
      expect(await app().failed('r3')).toHaveLength(1);
      expect((await app().jobs('r2')).map((j) => j.payload).sort()).toEqual([
        '{"n":21}',
        '{"n":22}',
        '{"n":23}',
      ]);
    });

    it('never duplicates a job, even when two retries run at once; each retried job runs once', async () => {
      const failed = await app().fail('r4', [41, 42, 43, 44], 'flaky.job');
      const [one, two] = await Promise.all([
        app().run(['queue:retry', 'all', '--queue', 'r4']),
        app().run(['queue:retry', 'all', '--queue', 'r4']),
      ]);
      for (const r of [one, two]) {
        expect(r.stderr).toBe('');
        expect(r.code).toBe(0);
      }
      expect(retriedLines(one!.stdout).length + retriedLines(two!.stdout).length).toBe(4);
      expect(await app().ok(['queue:retry', 'all', '--queue', 'r4'])).toBe(
        'Retried 0 failed jobs.\n',
      );
      const again = await app().run(['queue:retry', String(failed[0]!.id)]);
      expect(again.code).toBe(1);
      expect(again.stderr.split('\n')[0]).toBe(
        `Error: No failed job with id or uuid "${failed[0]!.id}".`,
      );
      expect(await app().sizes(['r4'])).toEqual([
        { queue: 'r4', pending: 4, delayed: 0, reserved: 0, failed: 0, paused: false },
      ]);

      writeFileSync(path.join(app().cwd, 'fixed'), '');
      await app().work('r4');
      expect(
        app()
          .runs()
          .filter((l) => l.startsWith('flaky.job:'))
          .sort(),
      ).toEqual(['flaky.job:41', 'flaky.job:42', 'flaky.job:43', 'flaky.job:44']);
      expect(await app().failed('r4')).toEqual([]);
    });

    it('retries a job that failed under an unknown name, once the job is registered', async () => {
      const WITH_LATER = { WITH_LATER: '1' };
      await app().dispatch('later.job', [61], ['--queue', 'r6'], WITH_LATER);
      await app().work('r6');
      const [unknown] = await app().failed('r6');
      expect(unknown).toMatchObject({ name: 'later.job', reason: 'poison' });
      expect(unknown!.exception).toMatch(/^PoisonJobError: Unknown job name "later\.job"/);

      // Still unknown: retried all the same, with a warning and the default tries.
      const early = await app().run(['queue:retry', 'all', '--queue', 'r6']);
      expect(early.code).toBe(0);
      expect(early.stderr).toBe(
        'later.job is not registered in the config: it will fail again until it is.\n',
      );
      expect((await app().jobs('r6'))[0]).toMatchObject({ name: 'later.job', max_tries: 3 });
      await app().work('r6');
      expect(await app().failed('r6')).toHaveLength(1);

      // Registered: retried with its own tries, and it runs.
      expect(await app().ok(['queue:retry', 'all', '--queue', 'r6'], WITH_LATER)).toMatch(
        /Retried 1 failed job\.\n$/,
      );
      expect((await app().jobs('r6'))[0]).toMatchObject({ name: 'later.job', max_tries: 6 });
      await app().work('r6', WITH_LATER);
      expect(app().runs()).toContain('later.job:61');
      expect(await app().failed('r6')).toEqual([]);
      expect(await app().jobs('r6')).toEqual([]);
    });

    it('retries more failed jobs than fit in one page', async () => {
      const { knex } = await app().db();
      const rows = Array.from({ length: 450 }, (_, n) => ({
        uuid: randomUUID(),
        connection: 'database',
        queue: 'big',
        name: 'ok.job',
        payload: JSON.stringify({ n }),
        exception: 'Error: made by the test',
        reason: 'error',
        attempts: 1,
        priority: 0,
        failed_at: Date.now(),
      }));
      for (let i = 0; i < rows.length; i += 150)
        await knex('failed_jobs').insert(rows.slice(i, i + 150));

      const out = await app().ok(['queue:retry', 'all', '--queue', 'big']);
      expect(retriedLines(out)).toHaveLength(450);
      expect(out.endsWith('Retried 450 failed jobs.\n')).toBe(true);
      const jobs = await app().jobs('big');
      expect(new Set(jobs.map((j) => j.payload)).size).toBe(450);
      expect(jobs.every((j) => j.attempts === 0 && j.max_tries === 4)).toBe(true);
      expect(await app().failed('big')).toEqual([]);
    });

    it('pushes a failed job back to its own connection: on sync it runs again at once', async () => {
      const dispatched = await app().run(
        ['queue:dispatch', 'boom.job', '--payload', '{"n":71}', '--queue', 'r7'],
        { env: { QUEUE_CONNECTION: 'sync' } },
      );
      expect(dispatched.stderr.split('\n')[0]).toBe('Error: boom 71');
      const [failed] = await app().failed('r7');
      expect(failed).toMatchObject({ connection: 'sync', queue: 'r7', payload: '{"n":71}' });

      // QUEUE_CONNECTION is database here: the row's own connection decides.
      const retried = await app().run(['queue:retry', String(failed!.id)]);
      expect(retried.code).toBe(0);
      expect(retried.stdout).toBe(
        `Retried  #${failed!.id} boom.job on sync/r7\nRetried 1 failed job.\n`,
      );
      expect(retried.stderr).toBe('It ran at once and failed again: boom 71\n');
      const [again] = await app().failed('r7');
      expect(again).toMatchObject({ connection: 'sync', queue: 'r7', payload: '{"n":71}' });
      expect(again!.id).toBeGreaterThan(failed!.id);
      expect(await app().failed('r7')).toHaveLength(1);
      expect(await app().jobs('r7')).toEqual([]);
    });
  });

  describeApp(backend, 'queue:retry of unique jobs', (app) => {
    uniqueRetrySpecs(app, {});
  });

  describeApp(
    backend,
    'queue:retry of unique jobs on the redis connection',
    (app) => {
      const prefix = redisPrefix('jobsmith-retry-unique').replace(/:$/, '');
      afterAll(() => deleteRedisKeys(redisUrl(), `${prefix}:`));
      uniqueRetrySpecs(app, {
        QUEUE_CONNECTION: 'redis',
        REDIS_URL: redisUrl(),
        REDIS_PREFIX: prefix,
      });
    },
    redisAvailable(),
  );

  describeApp(backend, 'queue:forget, queue:flush and queue:prune-failed', (app) => {
    it('queue:forget deletes one failed job by id or uuid, and exits 1 when there is none', async () => {
      const [a, b] = await app().fail('fg', [71, 72]);
      expect(await app().ok(['queue:forget', String(a!.id)])).toBe(
        `Forgot  failed job #${a!.id} boom.job (${a!.uuid})\n`,
      );
      const missing = await app().run(['queue:forget', String(a!.id)]);
      expect(missing.code).toBe(1);
      expect(missing.stderr).toBe(
        `Error: No failed job with id or uuid "${a!.id}".\nRun \`run queue:failed\` to see the failed jobs.\n`,
      );
      expect((await app().failed('fg')).map((r) => r.id)).toEqual([b!.id]);
      await app().ok(['queue:forget', b!.uuid]);
      expect(await app().failed('fg')).toEqual([]);
    });

    it('queue:prune-failed deletes failed jobs older than --hours, without asking', async () => {
      await app().fail('pr', [81]);
      await app().insertOldFailed('pr', 5, 82);
      await app().insertOldFailed('pr', 3, 83);
      expect(await app().ok(['queue:prune-failed', '--hours', '4'])).toBe(
        'Pruned 1 failed job older than 4 hours.\n',
      );
      expect(await app().ok(['queue:prune-failed', '--hours', '2'])).toBe(
        'Pruned 1 failed job older than 2 hours.\n',
      );
      expect((await app().failed('pr')).map((r) => r.payload)).toEqual(['{"n":81}']);
    });

    it('queue:flush needs --force without a terminal; --hours keeps the recent ones', async () => {
      await app().insertOldFailed('fl', 5, 91);
      await app().fail('fl', [92]);
      const before = await app().failed();
      expect(before.length).toBeGreaterThanOrEqual(2);

      const refused = await app().run(['queue:flush']);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toBe(
        'Error: Delete every failed job? Refusing without --force when no terminal is attached.\n' +
          'Pass --force to confirm.\n',
      );
      const refusedHours = await app().run(['queue:flush', '--hours', '3']);
      expect(refusedHours.code).toBe(2);
      expect(refusedHours.stderr.split('\n')[0]).toBe(
        'Error: Delete failed jobs older than 3 hours? Refusing without --force when no terminal is attached.',
      );
      expect(await app().failed()).toEqual(before);

      expect(await app().ok(['queue:flush', '--hours', '3', '--force'])).toBe(
        'Deleted 1 failed job.\n',
      );
      expect((await app().failed('fl')).map((r) => r.payload)).toEqual(['{"n":92}']);
      expect(await app().ok(['queue:flush', '--force'])).toBe(
        `Deleted ${before.length - 1} failed jobs.\n`,
      );
      expect(await app().failed()).toEqual([]);
    });
  });
}

type Env = Record<string, string>;
interface Dispatched {
  id: string;
  deduplicated: boolean;
}

/**
 * A unique job retried while its key is held (issue 11, item 4): on the `database` connection
 * (env {}) or on redis (env QUEUE_CONNECTION=redis), the failed rows always in the app's SQL
 * storage. uniq.job holds "u:|n|" for an hour and fails when n is negative.
 */
function uniqueRetrySpecs(app: () => QueueApp, env: Env): void {
  const connection = env.QUEUE_CONNECTION ?? 'database';
  const dispatch = async (queue: string, n: number) => {
    const args = ['queue:dispatch', 'uniq.job', '--payload', JSON.stringify({ n })];
    const [result] = await app().json<Dispatched[]>([...args, '--queue', queue], env);
    return result!;
  };
  /** Dispatches uniq.job with a negative n and works it: its failed row. */
  const failUnique = async (queue: string, n: number) => {
    const before = new Set((await app().failed(queue)).map((f) => f.id));
    expect((await dispatch(queue, -n)).deduplicated).toBe(false);
    await app().work(queue, env);
    const added = (await app().failed(queue)).filter((f) => !before.has(f.id));
    expect(added).toHaveLength(1);
    return added[0]!;
  };
  const pending = async (queue: string) =>
    (await app().json<Array<{ pending: number }>>(['queue:size', queue], env))[0]!.pending;
  const keptLine = (f: FailedJson, key: string, holder: string) =>
    `Kept     #${f.id} uniq.job on ${connection}/${f.queue}: unique key "${key}" is held by job #${holder}; retry it once that job is done, or forget it with run queue:forget ${f.id}`;
  const KEPT_ERROR =
    'Error: Kept 1 failed job: its unique key is held by live jobs.\n' +
    'Retry them once those jobs are done, or forget them with `run queue:forget ID`.\n';

  it('keeps a failed unique job while a new dispatch of its key is pending, and exits 1', async () => {
    const failed = await failUnique('u1', 1);
    expect(failed.connection).toBe(connection);
    const live = await dispatch('u1', 1);
    expect(live.deduplicated).toBe(false);

    const result = await app().run(['queue:retry', 'all'], { env });
    expect(result.code).toBe(1);
    expect(result.stdout).toBe(
      `${keptLine(failed, 'u:1', live.id)}\nRetried 0 failed jobs; kept 1.\n`,
    );
    expect(result.stderr).toBe(KEPT_ERROR);
    expect((await app().failed('u1')).map((f) => f.id)).toEqual([failed.id]);
    expect(await pending('u1')).toBe(1);

    const json = await app().run(['queue:retry', String(failed.id), '--json'], { env });
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toEqual({
      retried: [],
      kept: [
        {
          id: failed.id,
          uuid: failed.uuid,
          name: 'uniq.job',
          connection,
          queue: 'u1',
          unique_key: 'u:1',
          held_by: live.id,
        },
      ],
      missing: [],
    });
    expect(json.stderr).toBe(KEPT_ERROR);
    expect(await pending('u1')).toBe(1);
  });

  it('retries it once the holder is done, and the retried job holds the key again', async () => {
    const failed = await failUnique('u2', 2);
    await dispatch('u2', 2);
    await app().work('u2', env);
    expect(app().runs()).toContain('uniq.job:2');

    const out = await app().ok(['queue:retry', String(failed.id), '--json'], env);
    const { retried, kept } = JSON.parse(out) as { retried: Array<{ job_id: string }>; kept: [] };
    expect(kept).toEqual([]);
    expect(retried).toHaveLength(1);
    expect(await app().failed('u2')).toEqual([]);
    // The retried job (n = -2) holds "u:2": a new dispatch of the key is deduplicated to it.
    expect(await dispatch('u2', 2)).toEqual({ id: retried[0]!.job_id, deduplicated: true });
    expect(await pending('u2')).toBe(1);
  });

  it('retries one of two failed copies of one key in a run, and keeps the other', async () => {
    const first = await failUnique('u3', 3);
    const second = await failUnique('u3', 3);

    const result = await app().run(['queue:retry', 'all', '--queue', 'u3'], { env });
    expect(result.code).toBe(1);
    const lines = result.stdout.split('\n');
    expect(lines[0]).toMatch(
      new RegExp(`^Retried  #${first.id} uniq\\.job on ${connection}/u3 → job #\\S+$`),
    );
    const holder = lines[0]!.split('→ job #')[1]!;
    expect(lines.slice(1)).toEqual([
      keptLine(second, 'u:3', holder),
      'Retried 1 failed job; kept 1.',
      '',
    ]);
    expect(result.stderr).toBe(KEPT_ERROR);
    expect((await app().failed('u3')).map((f) => f.id)).toEqual([second.id]);
    expect(await pending('u3')).toBe(1);
  });

  it('keeps the second copy of a key when the copies are pages apart', async () => {
    const first = await failUnique('u4', 4);
    // More plain failed jobs between the copies than one page of a retry holds (200).
    const { knex } = await app().db();
    const rows = Array.from({ length: 250 }, (_, n) => ({
      uuid: randomUUID(),
      connection,
      queue: 'u4',
      name: 'ok.job',
      payload: JSON.stringify({ n }),
      exception: 'Error: made by the test',
      reason: 'error',
      attempts: 1,
      priority: 0,
      failed_at: Date.now(),
    }));
    for (let i = 0; i < rows.length; i += 125)
      await knex('failed_jobs').insert(rows.slice(i, i + 125));
    const second = await failUnique('u4', 4);

    const result = await app().run(['queue:retry', 'all', '--queue', 'u4'], { env });
    expect(result.code).toBe(1);
    expect(result.stdout.endsWith('Retried 251 failed jobs; kept 1.\n')).toBe(true);
    expect(result.stdout).toContain(`Kept     #${second.id} `);
    expect(result.stdout).toContain(`Retried  #${first.id} `);
    expect((await app().failed('u4')).map((f) => f.id)).toEqual([second.id]);
    expect(await pending('u4')).toBe(251);
  });
}
