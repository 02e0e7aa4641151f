/**
 * The queue:* commands that look at and steer queues: queue:size, queue:list, queue:clear,
 * queue:monitor, queue:pause, queue:resume, queue:restart. Run by a .sqlite and a .pg file.
 */
import { expect, it } from 'vitest';
import { describeApp, tableRows, type Backend } from './queue-commands.fixture.js';

export function queueSpecs(backend: Backend): void {
  describeApp(backend, 'queue:size and queue:list', (app) => {
    it('queue:size counts pending, delayed, reserved and failed jobs of every queue in use', async () => {
      expect(await app().json(['queue:size'])).toEqual([]);
      expect(await app().ok(['queue:size'])).toBe('No queue holds jobs or failed jobs.\n');

      await app().fail('sz', [1]);
      // A queue that holds only failed jobs is listed too.
      expect(await app().json(['queue:size'])).toEqual([
        { queue: 'sz', pending: 0, delayed: 0, reserved: 0, failed: 1, paused: false },
      ]);

      await app().dispatch('ok.job', [2, 3], ['--queue', 'sz']);
      await app().dispatch('ok.job', [4], ['--queue', 'sz', '--delay', '1h']);
      const [held] = await app().dispatch('ok.job', [5, 6], ['--queue', 'sz2']);
      await app().reserve(held!);

      expect(await app().json(['queue:size'])).toEqual([
        { queue: 'sz', pending: 2, delayed: 1, reserved: 0, failed: 1, paused: false },
        { queue: 'sz2', pending: 1, delayed: 0, reserved: 1, failed: 0, paused: false },
      ]);
      expect(await app().json(['queue:size', 'sz2', 'empty'])).toEqual([
        { queue: 'sz2', pending: 1, delayed: 0, reserved: 1, failed: 0, paused: false },
        { queue: 'empty', pending: 0, delayed: 0, reserved: 0, failed: 0, paused: false },
      ]);
      expect(tableRows(await app().ok(['queue:size']))).toEqual([
        ['Queue', 'Pending', 'Delayed', 'Reserved', 'Failed', 'Paused'],
        ['sz', '2', '1', '0', '1', 'no'],
        ['sz2', '1', '0', '1', '0', 'no'],
      ]);
    });

    it('queue:list shows the jobs of a queue by state, a page at a time', async () => {
      const [a] = await app().dispatch('ok.job', [1], ['--queue', 'ls', '--priority', '1']);
      const [b] = await app().dispatch('ok.job', [2], ['--queue', 'ls', '--priority', '9']);
      const [c] = await app().dispatch('ok.job', [3], ['--queue', 'ls']);
      const [d] = await app().dispatch('ok.job', [4], ['--queue', 'ls', '--delay', '1h']);
      await app().reserve(c!);
      const error = `Error: ${'x'.repeat(80)}\n    at handle (jobs.ts:1:1)`;
      const { knex } = await app().db();
      await knex('jobs').where({ id: a }).update({ last_error: error, attempts: 1 });

      const ids = async (args: string[]) =>
        (await app().json<Array<{ id: string }>>(['queue:list', 'ls', ...args])).map((r) => r.id);
      // Read-only: the listings run side by side. Priority first (high first), then dispatch order.
      const cases: Array<[string[], Array<string | undefined>]> = [
        [[], [b, a, c, d]],
        [
          ['--state', 'pending'],
          [b, a],
        ],
        [['--state', 'delayed'], [d]],
        [['--state', 'reserved'], [c]],
        [['--per-page', '1', '--page', '2'], [a]],
        [['--per-page', '2', '--page', '3'], []],
      ];
      const results = await Promise.all(cases.map(([args]) => ids(args)));
      expect(results).toEqual(cases.map(([, expected]) => expected));

      const [delayed] = await app().json<Array<Record<string, unknown>>>([
        'queue:list',
        'ls',
        '--state',
        'delayed',
      ]);
      const availableAt = Date.parse(delayed!.available_at as string);
      expect(availableAt).toBeGreaterThan(Date.now() + 3_500_000);
      expect(availableAt).toBeLessThan(Date.now() + 3_700_000);
      expect(delayed).toEqual({
        id: d,
        name: 'ok.job',
        queue: 'ls',
        state: 'delayed',
        priority: 0,
        attempts: 0,
        max_tries: 4,
        available_at: new Date(availableAt).toISOString(),
        created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
        last_error: null,
        payload: '{"n":4}',
        status: 'queued',
        tags: [],
        progress: null,
      });

      const table = tableRows(await app().ok(['queue:list', 'ls', '--state', 'pending']));
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
      expect(table[1]).toEqual([
        b,
        'ok.job',
        'queued (pending)',
        '9',
        '0/4',
        '-',
        expect.any(String),
      ]);
      // The last error: its first line only, cut to 60 characters.
      expect(table[2]).toEqual([
        a,
        'ok.job',
        'queued (pending)',
        '1',
        '1/4',
        '-',
        expect.stringMatching(/^\d{4}-\d\d-\d\dT[\d:.]+Z$/),
        `Error: ${'x'.repeat(52)}…`,
      ]);
      expect(table).toHaveLength(3);

      const paged = await app().ok(['queue:list', 'ls', '--per-page', '2']);
      expect(paged.endsWith('Page 1; the next: --page 2\n')).toBe(true);
      expect(await app().ok(['queue:list', 'nothing'])).toBe('No jobs in queue nothing.\n');
      expect(await app().ok(['queue:list', 'ls', '--page', '9'])).toBe('No jobs on page 9.\n');
    });
  });

  describeApp(backend, 'queue:clear and queue:monitor', (app) => {
    it('queue:clear deletes the waiting jobs of one queue and needs --force without a terminal', async () => {
      await app().dispatch('ok.job', [1, 2], ['--queue', 'cl']);
      await app().dispatch('ok.job', [3], ['--queue', 'cl', '--delay', '1h']);
      const [held] = await app().dispatch('ok.job', [4], ['--queue', 'cl']);
      await app().reserve(held!);
      await app().dispatch('ok.job', [5], ['--queue', 'cl2']);
      await app().dispatch('ok.job', [6]);
      const before = await app().sizes(['cl', 'cl2', 'default']);

      const refused = await app().run(['queue:clear', '--queue', 'cl']);
      expect(refused.code).toBe(2);
      expect(refused.stderr).toBe(
        'Error: Delete every waiting job of queue "cl" on the database connection? Refusing without --force when no terminal is attached.\n' +
          'Pass --force to confirm.\n',
      );
      expect(await app().sizes(['cl', 'cl2', 'default'])).toEqual(before);

      expect(await app().ok(['queue:clear', '--queue', 'cl', '--force'])).toBe(
        'Cleared 3 jobs from queue cl.\n',
      );
      // The job a worker holds is left to its worker.
      expect(await app().sizes(['cl', 'cl2'])).toEqual([
        { queue: 'cl', pending: 0, delayed: 0, reserved: 1, failed: 0, paused: false },
        { queue: 'cl2', pending: 1, delayed: 0, reserved: 0, failed: 0, paused: false },
      ]);
      expect(await app().ok(['queue:clear', '--force'])).toBe(
        'Cleared 1 job from queue default.\n',
      );
      expect(await app().sizes(['cl2', 'default'])).toEqual([
        { queue: 'cl2', pending: 1, delayed: 0, reserved: 0, failed: 0, paused: false },
        { queue: 'default', pending: 0, delayed: 0, reserved: 0, failed: 0, paused: false },
      ]);
    });

    it('queue:monitor exits 1 when a queue holds more waiting jobs than --max', async () => {
      await app().dispatch('ok.job', [1, 2, 3], ['--queue', 'mo']);
      await app().dispatch('ok.job', [4], ['--queue', 'mo', '--delay', '1h']);

      const over = await app().run(['queue:monitor', 'mo', 'mo2', '--max', '3']);
      expect(over.code).toBe(1);
      expect(tableRows(over.stdout)).toEqual([
        ['Queue', 'Size', 'Status'],
        ['mo', '4', 'ALERT'],
        ['mo2', '0', 'OK'],
      ]);
      expect(over.stderr).toBe('Error: Over --max 3: mo (4 waiting).\n');

      expect(await app().json(['queue:monitor', 'mo', 'mo2', '--max', '4'])).toEqual([
        { queue: 'mo', size: 4, max: 4, status: 'OK' },
        { queue: 'mo2', size: 0, max: 4, status: 'OK' },
      ]);

      const json = await app().run(['queue:monitor', 'mo', 'mo2', '--max', '0', '--json']);
      expect(json.code).toBe(1);
      expect(JSON.parse(json.stdout)).toEqual([
        { queue: 'mo', size: 4, max: 0, status: 'ALERT' },
        { queue: 'mo2', size: 0, max: 0, status: 'OK' },
      ]);
    });
  });

  describeApp(backend, 'queue:pause, queue:resume and queue:restart', (app) => {
    it('a paused queue is not worked, even by a new worker process, until it is resumed', async () => {
      await app().dispatch('ok.job', [1, 2], ['--queue', 'pz']);
      await app().dispatch('ok.job', [3], ['--queue', 'pz-free']);

      expect(await app().ok(['queue:pause', 'pz'])).toBe(
        'Paused  pz\nWorkers stop claiming from paused queues within a second; running jobs finish.\n',
      );
      await app().work('pz,pz-free');
      expect(app().runs()).toEqual(['ok.job:3']);
      expect(await app().sizes(['pz'])).toEqual([
        { queue: 'pz', pending: 2, delayed: 0, reserved: 0, failed: 0, paused: true },
      ]);

      expect(await app().ok(['queue:resume', 'pz'])).toBe('Resumed  pz\n');
      await app().work('pz,pz-free');
      expect(app().runs().sort()).toEqual(['ok.job:1', 'ok.job:2', 'ok.job:3']);
      expect(await app().sizes(['pz'])).toEqual([
        { queue: 'pz', pending: 0, delayed: 0, reserved: 0, failed: 0, paused: false },
      ]);
    });

    it('says a queue was not paused, or already paused, rather than "Resumed" or "Paused"', async () => {
      expect(await app().ok(['queue:resume', 'nosuchqueue'])).toBe(
        'nosuchqueue was not paused; nothing to resume.\n',
      );
      expect(await app().ok(['queue:pause', 'twice'])).toBe(
        'Paused  twice\nWorkers stop claiming from paused queues within a second; running jobs finish.\n',
      );
      expect(await app().ok(['queue:pause', 'twice', 'also'])).toBe(
        'twice was already paused.\nPaused  also\nWorkers stop claiming from paused queues within a second; running jobs finish.\n',
      );
      expect(await app().ok(['queue:resume', 'twice', 'also', 'nosuchqueue'])).toBe(
        'Resumed  twice\nResumed  also\nnosuchqueue was not paused; nothing to resume.\n',
      );
    });

    it('queue:pause of a name nothing uses says which queue in use it is probably a typo of', async () => {
      await app().dispatch('ok.job', [1], ['--queue', 'reports']);
      expect(await app().ok(['queue:pause', 'reprots', 'newsletter'])).toBe(
        'Paused  reprots\n' +
          '  No job, worker or setting uses a queue named "reprots": did you mean "reports"? Undo with: run queue:resume reprots\n' +
          'Paused  newsletter\n' +
          'Workers stop claiming from paused queues within a second; running jobs finish.\n',
      );
      // Paused all the same (a queue may be paused before its first job), and said once.
      expect(await app().ok(['queue:pause', 'reprots'])).toBe('reprots was already paused.\n');
      expect(await app().ok(['queue:resume', 'reprots', 'newsletter'])).toBe(
        'Resumed  reprots\nResumed  newsletter\n',
      );
    });

    it('queue:restart makes a running worker exit 0 once its current job is done', async () => {
      const worker = app().spawn(['queue:work', '--queue', 'rs', '--sleep', '100ms']);
      await worker.waitForOutput(/processing rs/);
      await app().dispatch('slow.job', [7], ['--queue', 'rs']);
      await worker.waitForOutput(/slow\.job #\d+ RUNNING/);

      const restart = await app().ok(['queue:restart']);
      expect(restart.split('\n')[0]).toBe(
        'Restart requested: every running worker exits (code 0) after its current jobs.',
      );
      const exited = await worker.exited;
      expect(exited.timedOut).toBe(false);
      expect(exited.code, exited.stderr).toBe(0);
      expect(exited.stdout).toMatch(/slow\.job #\d+ DONE/);
      expect(exited.stdout).toMatch(/Worker stopped \(restart\) after 1 job\(s\)\./);
      expect(app().runs()).toContain('slow.job:7');
    });

    it('queue:work --prefetch runs every job once and leaves the queue empty', async () => {
      // Numbers no other test of this app dispatches: runs.log is shared.
      const ns = Array.from({ length: 40 }, (_, i) => 901 + i);
      await app().dispatch('ok.job', ns, ['--queue', 'pf']);
      const result = await app().run([
        'queue:work',
        '--queue',
        'pf',
        '--prefetch',
        '16',
        '--concurrency',
        '3',
        '--stop-when-empty',
      ]);
      expect(result.code, result.stderr).toBe(0);
      const mine = app()
        .runs()
        .filter((r) => /^ok\.job:9\d\d$/.test(r));
      expect(mine.sort()).toEqual(ns.map((n) => `ok.job:${n}`).sort());
      expect(await app().sizes(['pf'])).toEqual([
        { queue: 'pf', pending: 0, delayed: 0, reserved: 0, failed: 0, paused: false },
      ]);
    });
  });
}
