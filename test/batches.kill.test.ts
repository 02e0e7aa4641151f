/**
 * The test, on every backend: a 1,000-job batch run by four `run queue:work` processes,
 * one of them killed with SIGKILL in the middle. Its jobs come back through their leases and run
 * again; their outcomes count once, so the counts are exact and `then` (and `finally`) run
 * exactly once, as jobs.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { App } from '../src/cli/app.js';
import { defineJob } from '../src/jobs/define.js';
import { batch } from '../src/workflows/batches/builder.js';
import { findBatch, listBatchOutcomes } from '../src/workflows/batches/store.js';
import { step } from '../src/workflows/step.js';
import { APP_BACKENDS, createApp, describeBackend, type TestApp } from './helpers/app.js';
import type { CliProcess } from './helpers/cli.js';
import { waitFor } from './helpers/wait.js';

const CONFIG = `import { appendFileSync } from 'node:fs';
import { defineConfig, defineJob } from 'jobsmith';
const work = defineJob({
  name: 'kill.work',
  async handle() { await new Promise((r) => setTimeout(r, 5)); },
});
const then = defineJob({
  name: 'kill.then',
  handle(_p, ctx) { appendFileSync('then.log', ctx.batch.id + ' ' + ctx.batch.pending + '\\n'); },
});
const fin = defineJob({
  name: 'kill.finally',
  handle(_p, ctx) { appendFileSync('finally.log', ctx.batch.id + '\\n'); },
});
export default defineConfig({ jobs: [work, then, fin] });
`;

// The same names as the config's: dispatch only needs the name, queue and options.
const work = defineJob({ name: 'kill.work', handle() {} });
const then = defineJob({ name: 'kill.then', handle() {} });
const fin = defineJob({ name: 'kill.finally', handle() {} });

let app: TestApp | undefined;
let dispatching: App | undefined;
let workers: CliProcess[] = [];
afterEach(async () => {
  await Promise.all(workers.map((w) => w.stop('SIGKILL')));
  workers = [];
  await dispatching?.close();
  dispatching = undefined;
  await app?.cleanup();
  app = undefined;
});

function lines(file: string): string[] {
  try {
    return readFileSync(path.join(app!.cwd, file), 'utf8').split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

for (const backend of APP_BACKENDS) {
  describeBackend(backend, 'a batch across four workers, one killed with SIGKILL', () => {
    it(
      'runs then exactly once and counts every job exactly once',
      { timeout: 240_000 },
      async () => {
        app = await createApp(backend, CONFIG);
        // The test dispatches as application code does: an App on the app's environment.
        const envText = Object.entries(app.env)
          .filter(([, v]) => v !== undefined)
          .map(([k, v]) => `${k}=${v}`)
          .join('\n');
        writeFileSync(path.join(app.cwd, '.env'), `${envText}\n`);
        dispatching = new App(app.cwd);
        const db = await dispatching.db();
        const total = 1000;
        const { id, jobIds } = await batch(
          Array.from({ length: total }, (_, i) => step(work, { i })),
        )
          .name('kill')
          .then(step(then, {}))
          .finally(step(fin, {}))
          .dispatchTo({ db: db.knex, dispatcher: dispatching.dispatcher(), connection: undefined });
        expect(jobIds).toHaveLength(total);

        const settled = async () =>
          (await listBatchOutcomes(db.knex, id, { limit: 10_000 })).length;
        // A short lease: the killed worker's jobs come back within seconds.
        for (let i = 0; i < 4; i++) {
          workers.push(
            app.spawn(['queue:work', '--concurrency', '4', '--lease', '2s'], {
              timeoutMs: 120_000,
            }),
          );
        }
        await waitFor(async () => (await settled()) >= 250, {
          timeoutMs: 60_000,
          intervalMs: 50,
          message: 'the workers did not get through a quarter of the batch',
        }).catch((error: Error) => {
          throw new Error(`${error.message}\n${workers.map((w) => w.output).join('\n---\n')}`);
        });
        const killed = await workers[0]!.stop('SIGKILL');
        expect(killed.signal).toBe('SIGKILL');
        expect(await settled()).toBeLessThan(total); // killed in the middle

        await waitFor(() => lines('then.log').length > 0 && lines('finally.log').length > 0, {
          timeoutMs: 90_000,
          intervalMs: 100,
          message: 'then and finally did not both run',
        });
        // Whatever is still queued (a copy of a callback) is taken before the counts are read.
        await waitFor(
          async () => {
            const r = await app!.run(['queue:size', 'default', '--json']);
            const [row] = JSON.parse(r.stdout) as Array<Record<string, number>>;
            return row!.pending! + row!.delayed! + row!.reserved! === 0;
          },
          { timeoutMs: 30_000, intervalMs: 200, message: 'the queue did not empty' },
        );
        await Promise.all(workers.slice(1).map((w) => w.stop('SIGTERM')));

        expect(lines('then.log')).toEqual([`${id} 0`]);
        expect(lines('finally.log')).toEqual([id]);
        expect(await findBatch(db.knex, id)).toMatchObject({
          total,
          pending: 0,
          failed: 0,
          cancelledAt: null,
          finishedAt: expect.any(Number),
        });
        const outcomes = await listBatchOutcomes(db.knex, id, { limit: 10_000 });
        expect(outcomes).toHaveLength(total);
        expect(outcomes.every((o) => o.outcome === 'succeeded')).toBe(true);
        expect(new Set(outcomes.map((o) => o.jobId))).toEqual(new Set(jobIds));
      },
    );
  });
}
