/**
 * `run queue:retry` puts a failed job back with the tags it was dispatched with, on every
 * backend: failed_jobs keeps them (migration 0019), whatever queue holds the jobs.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { describeApp, type Backend } from './queue-commands.fixture.js';

const BACKENDS: Backend[] = ['sqlite', 'pgsql', 'redis'];

for (const backend of BACKENDS) {
  describeApp(backend, 'queue:retry of a tagged job', (app) => {
    it('puts it back with its tags, found by queue:list --tag, and it runs', async () => {
      const tags = ['--tag', 'post:42', '--tag', 'user:7'];
      const [id] = await app().dispatch('flaky.job', [1], ['--queue', 'rt', ...tags]);
      await app().dispatch('flaky.job', [2], ['--queue', 'rt']);
      await app().work('rt');
      const failed = await app().failed('rt');
      expect(failed.map((f) => f.original_id)).toContain(id);

      writeFileSync(path.join(app().cwd, 'fixed'), '');
      expect(await app().ok(['queue:retry', 'all'])).toMatch(/\nRetried 2 failed jobs\.\n$/);
      const listed = await app().json<Array<{ name: string; payload: string; tags: string[] }>>([
        'queue:list',
        'rt',
        '--tag',
        'post:42',
      ]);
      expect(listed.map((r) => [r.name, r.payload, r.tags])).toEqual([
        ['flaky.job', '{"n":1}', ['post:42', 'user:7']],
      ]);
      expect((await app().jobs('rt')).map((j) => j.payload).sort()).toEqual(['{"n":1}', '{"n":2}']);
      await app().work('rt');
      expect(app().runs().sort()).toEqual(['flaky.job:1', 'flaky.job:2']);
    }, 90_000);
  });
}
