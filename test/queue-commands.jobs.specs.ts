/**
 * The per-job commands on live jobs (issue 15): queue:show, queue:promote, queue:delete, and
 * queue:list --tag with its progress column, for jobs tagged with queue:dispatch --tag. Run by a
 * .sqlite, a .pg and a .redis file.
 */
import { expect, it } from 'vitest';
import { describeApp, tableRows, type Backend } from './queue-commands.fixture.js';

/** Each test runs the CLI a dozen times: a loaded machine takes seconds per run. */
const SLOW = 90_000;

export function jobSpecs(backend: Backend): void {
  describeApp(backend, 'queue:show, queue:promote, queue:delete', (app) => {
    it(
      'queue:show prints one live job, and exits 1 for an id that matches none',
      async () => {
        const [a] = await app().dispatch(
          'ok.job',
          [1],
          ['--queue', 'sh', '--priority', '3', '--tag', 'post:42', '--tag', 'user:7'],
        );
        // On a queue of its own: on Redis a job is held by claiming the next one of its queue.
        const [b] = await app().dispatch('ok.job', [2], ['--queue', 'shr']);
        await app().setProgress(a!, { done: 3, of: 10 });
        await app().reserve(b!);

        const shown = await app().json<Record<string, unknown>>(['queue:show', a!]);
        expect(shown).toEqual({
          id: a,
          name: 'ok.job',
          queue: 'sh',
          status: 'queued',
          state: 'pending',
          priority: 3,
          attempts: 0,
          max_tries: 4,
          available_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT[\d:.]+Z$/),
          created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT[\d:.]+Z$/),
          last_error: null,
          payload: '{"n":1}',
          tags: ['post:42', 'user:7'],
          progress: { done: 3, of: 10 },
        });
        expect(await app().json(['queue:show', b!])).toMatchObject({
          id: b,
          status: 'in_progress',
          state: 'reserved',
          tags: [],
          progress: null,
        });

        const text = (await app().ok(['queue:show', a!])).split('\n');
        expect(text[0]).toBe(`Job ${a}  ok.job on queue sh`);
        expect(text).toContain('Status      queued (pending)');
        expect(text).toContain('Tags        post:42, user:7');
        expect(text).toContain('Progress    {"done":3,"of":10}');
        expect(text).toContain('Payload     {"n":1}');
        expect(text).toContain('Attempts    0/4');
        // A queue policy's tries, which a worker applies over the stored ones, and where from.
        const policy = (await app().ok(['queue:show', a!], { QUEUE_SH_TRIES: '7' })).split('\n');
        expect(policy).toContain('Attempts    0/7 (QUEUE_SH_TRIES; dispatched with 4)');

        for (const id of ['999999', 'nope']) {
          const missing = await app().run(['queue:show', id, '--json']);
          expect(missing.code).toBe(1);
          expect(missing.stdout).toBe('');
          expect(missing.stderr).toBe(
            `Error: No job with id "${id}" on the ${app().connection} connection.\n` +
              'Run `run queue:list QUEUE` to see live jobs; a finished job shows while its history is kept (docs/lifecycle.md).\n',
          );
        }
      },
      SLOW,
    );

    it(
      'queue:show prints a finished job with the last progress it reported',
      async () => {
        const [id] = await app().dispatch('partial.job', [3], ['--queue', 'fin', '--tag', 'big']);
        await app().work('fin');
        expect(await app().json(['queue:show', id!])).toMatchObject({
          source: 'history',
          id,
          status: 'failed',
          tags: ['big'],
          progress: { done: 4, of: 10 },
          error: expect.stringMatching(/^Permanent: stopped at 4\n/),
          // The same snake_case as a live job and queue:history --json.
          finished_at: expect.stringMatching(/Z$/),
          runtime_ms: expect.any(Number),
          timeline: expect.arrayContaining([
            expect.objectContaining({
              event: 'attempt',
              attempt: 1,
              started_at: expect.stringMatching(/Z$/),
              ended_at: expect.stringMatching(/Z$/),
              outcome: 'failed',
            }),
          ]),
        });
        const text = (await app().ok(['queue:show', id!])).split('\n');
        expect(text[0]).toBe(`Job ${id}  partial.job on queue fin`);
        expect(text).toContain('Status      failed');
        expect(text).toContain('Progress    {"done":4,"of":10}');
      },
      SLOW,
    );

    it(
      'queue:promote runs delayed jobs now and leaves the others',
      async () => {
        const [delayed] = await app().dispatch('ok.job', [1], ['--queue', 'pr', '--delay', '1h']);
        const [pending] = await app().dispatch('ok.job', [2], ['--queue', 'pr']);

        expect(await app().ok(['queue:promote', delayed!])).toBe(`Promoted  job ${delayed}\n`);
        const [row] = await app().json<Array<{ id: string; state: string }>>([
          'queue:list',
          'pr',
          '--state',
          'pending',
          '--per-page',
          '1',
        ]);
        expect(row).toMatchObject({ id: pending, state: 'pending' });
        expect(
          (await app().json<Array<{ id: string }>>(['queue:list', 'pr', '--state', 'delayed']))
            .length,
        ).toBe(0);

        const again = await app().run(['queue:promote', delayed!, pending!, '424242', '--json']);
        expect(again.code).toBe(1);
        expect(JSON.parse(again.stdout)).toEqual({
          promoted: [],
          skipped: [
            { id: delayed, status: 'queued', state: 'pending' },
            { id: pending, status: 'queued', state: 'pending' },
          ],
          missing: ['424242'],
        });
        expect(again.stderr).toBe(
          `Error: No live job with id "424242" on the ${app().connection} connection.\n` +
            'Run `run queue:list QUEUE --state delayed` to see the delayed jobs.\n',
        );
      },
      SLOW,
    );

    it(
      'queue:delete deletes waiting jobs and refuses one in progress',
      async () => {
        const [pending] = await app().dispatch('ok.job', [1], ['--queue', 'dl']);
        const [delayed] = await app().dispatch('ok.job', [2], ['--queue', 'dl', '--delay', '1h']);
        const [held] = await app().dispatch('ok.job', [3], ['--queue', 'dlr']);
        await app().reserve(held!);

        expect(await app().ok(['queue:delete', pending!])).toBe(`Deleted  job ${pending}\n`);
        const result = await app().run(['queue:delete', delayed!, held!, '777777', '--json']);
        expect(result.code).toBe(1);
        expect(JSON.parse(result.stdout)).toEqual({
          deleted: [delayed],
          running: [held],
          missing: ['777777'],
        });
        expect(result.stderr).toBe(
          `Error: Job "${held}" is in progress and not deleted: cancel it with \`run queue:cancel ${held}\`. No live job with id "777777" on the ${app().connection} connection.\n` +
            'Run `run queue:list QUEUE` to see the live jobs.\n',
        );
        expect(await app().jobs('dl')).toEqual([]);
        expect((await app().jobs('dlr')).map((j) => j.id)).toEqual([held]);

        const usage = await app().run(['queue:delete']);
        expect(usage.code).toBe(2);
      },
      SLOW,
    );

    it(
      'queue:list --tag lists the jobs dispatched with a tag, with their progress',
      async () => {
        const tagged = (n: number, tags: string[]) =>
          app().dispatch('ok.job', [n], ['--queue', 'tg', ...tags.flatMap((t) => ['--tag', t])]);
        const [a] = await tagged(1, ['post:42']);
        const [b] = await tagged(2, ['post:420']);
        const [c] = await tagged(3, ['user:1', 'post:42', 'user:1']);
        await app().setProgress(b!, 55);
        await app().setProgress(c!, { step: 'upload' });

        const listed = await app().json<Array<{ id: string; tags: string[]; progress: unknown }>>([
          'queue:list',
          'tg',
          '--tag',
          'post:42',
        ]);
        expect(listed.map((r) => [r.id, r.tags, r.progress])).toEqual([
          [a, ['post:42'], null],
          [c, ['user:1', 'post:42'], { step: 'upload' }],
        ]);
        const table = tableRows(await app().ok(['queue:list', 'tg']));
        expect(table[0]).toEqual([
          'ID',
          'Name',
          'Status',
          'Priority',
          'Attempts',
          'Progress',
          'Available at',
          'Last error',
        ]);
        expect(table.slice(1).map((r) => [r[0], r[5]])).toEqual([
          [a, '-'],
          [b, '55'],
          [c, '{"step":"upload"}'],
        ]);
        expect(await app().ok(['queue:list', 'tg', '--tag', 'none'])).toBe(
          'No jobs tagged none in queue tg.\n',
        );
        const bad = await app().run(['queue:list', 'tg', '--tag', '']);
        expect(bad.code).toBe(2);
        expect(bad.stderr).toContain('--tag: tag "" is not a non-empty string');
        const badDispatch = await app().run([
          'queue:dispatch',
          'ok.job',
          '--payload',
          '{"n":4}',
          '--queue',
          'tg',
          '--tag',
          '',
        ]);
        expect(badDispatch.code).toBe(2);
        expect(badDispatch.stderr.split('\n')[0]).toBe(
          `Error: --tag: tag "" is not a non-empty string; a job's tags are a list of at most 20 non-empty strings of at most 100 characters.`,
        );
        expect((await app().jobs('tg')).map((j) => j.id)).toEqual([a, b, c]);
      },
      SLOW,
    );

    it(
      'queue:list --tag without a queue lists the tagged jobs of every queue, oldest first',
      async () => {
        const [x] = await app().dispatch('ok.job', [1], ['--queue', 'tq-a', '--tag', 'post:9']);
        await app().dispatch('ok.job', [2], ['--queue', 'tq-a', '--tag', 'post:90']);
        const [y] = await app().dispatch('ok.job', [3], ['--queue', 'tq-b', '--tag', 'post:9']);
        const [z] = await app().dispatch(
          'ok.job',
          [4],
          ['--queue', 'tq-c', '--tag', 'post:9', '--delay', '1h'],
        );

        const listed = await app().json<Array<{ id: string; queue: string }>>([
          'queue:list',
          '--tag',
          'post:9',
        ]);
        expect(listed.map((r) => [r.id, r.queue])).toEqual([
          [x, 'tq-a'],
          [y, 'tq-b'],
          [z, 'tq-c'],
        ]);
        // Pages and --state cut the merged list.
        const second = await app().json<Array<{ id: string }>>([
          'queue:list',
          '--tag',
          'post:9',
          '--per-page',
          '2',
          '--page',
          '2',
        ]);
        expect(second.map((r) => r.id)).toEqual([z]);
        const delayed = await app().json<Array<{ id: string }>>([
          'queue:list',
          '--tag',
          'post:9',
          '--state',
          'delayed',
        ]);
        expect(delayed.map((r) => r.id)).toEqual([z]);
        // The table names each job's queue.
        const table = tableRows(await app().ok(['queue:list', '--tag', 'post:9']));
        expect(table[0]!.slice(0, 3)).toEqual(['ID', 'Queue', 'Name']);
        expect(table.slice(1).map((r) => [r[0], r[1]])).toEqual([
          [x, 'tq-a'],
          [y, 'tq-b'],
          [z, 'tq-c'],
        ]);
        expect(await app().ok(['queue:list', '--tag', 'post:404'])).toBe(
          'No jobs tagged post:404 in any queue.\n',
        );
        const usage = await app().run(['queue:list']);
        expect(usage.code).toBe(2);
        expect(usage.stderr.split('\n')[0]).toBe(
          'Error: Give a queue, or --tag T to list the tagged jobs of every queue.',
        );
      },
      SLOW,
    );
  });
}
