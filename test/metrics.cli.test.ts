import { afterEach, expect, it } from 'vitest';
import { createApp, describeBackend, type TestApp } from './helpers/app.js';

const CONFIG = `import { defineConfig, defineJob } from 'jobsmith';
const ok = defineJob({ name: 'stats.ok', queue: 'default', tries: 2, backoff: 0, async handle() {} });
const flaky = defineJob({
  name: 'stats.flaky',
  queue: 'mail',
  tries: 2,
  backoff: 0,
  async handle(_p, ctx) { if (ctx.attempt === 1) throw new Error('first try fails'); },
});
const bad = defineJob({
  name: 'stats.bad',
  queue: 'mail',
  tries: 1,
  async handle() { throw new Error('always fails'); },
});
const slow = defineJob({
  name: 'stats.slow',
  queue: 'slow',
  tries: 1,
  async handle() { await new Promise((r) => setTimeout(r, 20)); },
});
export default defineConfig({ jobs: [ok, flaky, bad, slow] });
`;

let app: TestApp | undefined;
afterEach(async () => {
  await app?.cleanup();
  app = undefined;
});

/** Dispatches `n` jobs of `name` with one command (JSON lines on stdin). */
async function dispatch(name: string, n: number): Promise<void> {
  const result = await app!.run(['queue:dispatch', name], { input: '{}\n'.repeat(n) });
  expect(result.code, result.stderr).toBe(0);
}

async function statsJson(args: string[] = []) {
  const result = await app!.run(['queue:stats', '--json', ...args]);
  expect(result.code, result.stderr).toBe(0);
  return JSON.parse(result.stdout) as { by: string; rows: Array<Record<string, unknown>> };
}

describeBackend('sqlite', 'run queue:stats', () => {
  it('shows what a worker counted, exactly, once it stops: per queue, per job, as a table and as JSON', async () => {
    app = await createApp('sqlite', CONFIG);
    await dispatch('stats.ok', 30);
    await dispatch('stats.flaky', 20);
    await dispatch('stats.bad', 10);
    const work = await app.run([
      'queue:work',
      '--queue',
      'default,mail',
      '--concurrency',
      '5',
      '--stop-when-empty',
    ]);
    expect(work.code, work.stderr).toBe(0);

    const byQueue = await statsJson();
    expect(byQueue.by).toBe('queue');
    expect(byQueue.rows).toMatchObject([
      { queue: 'default', processed: 30, succeeded: 30, failed: 0, retried: 0, failureShare: 0 },
      {
        queue: 'mail',
        processed: 30,
        succeeded: 20,
        failed: 10,
        retried: 20,
        failureShare: 1 / 3,
        averageRetries: 2 / 3,
      },
    ]);
    for (const row of byQueue.rows) {
      expect(row.averageRuntimeMs).toEqual(expect.any(Number));
      expect(row.p95RuntimeMs).toEqual(expect.any(Number));
      expect(row.throughputPerMinute).toBeCloseTo((row.processed as number) / 60, 0);
    }

    const mailJobs = await statsJson(['--by', 'job', '--queue', 'mail', '--since', '10m']);
    expect(mailJobs.rows.map((r) => [r.name, r.processed, r.failed, r.retried])).toEqual([
      ['stats.bad', 10, 10, 0],
      ['stats.flaky', 20, 0, 20],
    ]);

    const table = await app.run(['queue:stats']);
    expect(table.code, table.stderr).toBe(0);
    const lines = table.stdout.split('\n');
    expect(lines[0]).toMatch(
      /^Queue +Jobs\/min +Processed +Succeeded +Failed +Cancelled +Skipped +Failure % +Avg retries +Avg runtime +P95 runtime +Avg wait$/,
    );
    // --since is rounded down to its minute: the range is 60 to 61 minutes.
    expect(lines[1]).toMatch(/^default +0\.(49|50) +30 +30 +0 +0 +0 +0\.0% +0\.00 /);
    expect(lines[2]).toMatch(/^mail +0\.(49|50) +30 +20 +10 +0 +0 +33\.3% +0\.67 /);
    expect(table.stdout).toMatch(/Since \S+:00\.000Z \(6[01] min\)\./);
  });

  it('says when nothing was recorded, and names a bad flag or setting', async () => {
    app = await createApp('sqlite', CONFIG);
    const empty = await app.run(['queue:stats', '--since', '2h']);
    expect(empty.code, empty.stderr).toBe(0);
    expect(empty.stdout).toMatch(/^No job metrics since \d{4}-\d\d-\d\dT[\d:.]+Z\.\n$/);

    const by = await app.run(['queue:stats', '--by', 'host']);
    expect(by.code).toBe(2);
    expect(by.stderr).toContain('--by must be one of queue, job, got "host".');
    const since = await app.run(['queue:stats', '--since', 'yesterday']);
    expect(since.code).toBe(2);
    expect(since.stderr).toContain('--since must be an ISO 8601 date/time');

    const retention = await app.run(['queue:stats'], { env: { METRICS_RETENTION: 'a week' } });
    expect(retention.code).toBe(1);
    expect(retention.stderr).toContain(
      'METRICS_RETENTION="a week" is not valid; expected a positive duration: seconds (90) or a number with a unit: 500ms, 30s, 5m, 2h, 1d.',
    );
    expect(retention.stderr).not.toMatch(/\n\s+at /);
  });
});
