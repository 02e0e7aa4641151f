import { afterEach, expect, it } from 'vitest';
import { createApp, describeBackend, type TestApp } from './helpers/app.js';

const CONFIG = `import { defineConfig, defineJob } from 'jobsmith';
const flaky = defineJob({
  name: 'mail.send',
  queue: 'mail',
  tries: 1,
  backoff: 0,
  async handle() { throw new Error('smtp down'); },
});
export default defineConfig({ jobs: [flaky], queues: { mail: { tries: 2 } } });
`;

let app: TestApp | undefined;
afterEach(async () => {
  await app?.cleanup();
  app = undefined;
});

describeBackend('sqlite', 'run queue:work with queue policies', () => {
  it("takes QUEUE_<NAME>_TRIES over the config's queues, and --tries over both", async () => {
    app = await createApp('sqlite', CONFIG);
    const attemptsWith = async (args: string[], env: Record<string, string> = {}) => {
      const pushed = await app!.run(['queue:dispatch', 'mail.send', '--payload', '{}']);
      expect(pushed.code).toBe(0);
      const work = ['queue:work', '--queue', 'mail', '--stop-when-empty', '--json', ...args];
      const result = await app!.run(work, { env });
      expect(result.code).toBe(0);
      return result.stdout.split('\n').filter((l) => l.includes('"job:processing"')).length;
    };
    expect(await attemptsWith([])).toBe(2);
    expect(await attemptsWith([], { QUEUE_MAIL_TRIES: '3' })).toBe(3);
    expect(await attemptsWith(['--tries', '1'], { QUEUE_MAIL_TRIES: '3' })).toBe(1);
  });

  it("a worker of one queue runs the queue's concurrency: QUEUE_<NAME>_CONCURRENCY over the config, --concurrency over both", async () => {
    app = await createApp('sqlite', CONFIG.replace('{ tries: 2 }', '{ tries: 2, concurrency: 3 }'));
    const concurrencyWith = async (args: string[], env: Record<string, string> = {}) => {
      const work = ['queue:work', ...args, '--stop-when-empty', '--json'];
      const result = await app!.run(work, { env });
      expect(result.code, result.stderr).toBe(0);
      const started = result.stdout.split('\n').find((l) => l.includes('"worker:started"'));
      return (JSON.parse(started!) as { concurrency: number }).concurrency;
    };
    expect(await concurrencyWith(['--queue', 'mail'])).toBe(3);
    expect(await concurrencyWith(['--queue', 'mail'], { QUEUE_MAIL_CONCURRENCY: '5' })).toBe(5);
    expect(
      await concurrencyWith(['--queue', 'mail', '--concurrency', '2'], {
        QUEUE_MAIL_CONCURRENCY: '5',
      }),
    ).toBe(2);
    // Several queues: the sum of theirs (default counts 1), each kept to its own.
    expect(await concurrencyWith(['--queue', 'mail,default'])).toBe(4);
    expect(await concurrencyWith(['--queue', 'mail,default', '--concurrency', '2'])).toBe(2);
    // None of them sets one: one job at a time, as before.
    expect(await concurrencyWith(['--queue', 'default,other'])).toBe(1);
  });

  it('shows the caps on the worker:started line: per queue in a worker of several, global from QUEUE_<NAME>_GLOBAL_CONCURRENCY over the config', async () => {
    app = await createApp(
      'sqlite',
      CONFIG.replace('{ tries: 2 }', '{ tries: 2, concurrency: 3, globalConcurrency: 6 }'),
    );
    const startedWith = async (args: string[], env: Record<string, string> = {}) => {
      const work = ['queue:work', ...args, '--stop-when-empty', '--json'];
      const result = await app!.run(work, { env });
      expect(result.code, result.stderr).toBe(0);
      const started = result.stdout.split('\n').find((l) => l.includes('"worker:started"'));
      return JSON.parse(started!) as { concurrency: number; caps?: unknown };
    };
    expect(await startedWith(['--queue', 'mail,default'])).toMatchObject({
      concurrency: 4,
      caps: { perQueue: { mail: 3 }, globalConcurrency: { mail: 6 } },
    });
    expect(
      await startedWith(['--queue', 'mail'], { QUEUE_MAIL_GLOBAL_CONCURRENCY: '2' }),
    ).toMatchObject({ concurrency: 3, caps: { globalConcurrency: { mail: 2 } } });
    const bad = await app.run(['queue:work', '--queue', 'mail', '--stop-when-empty'], {
      env: { QUEUE_MAIL_GLOBAL_CONCURRENCY: '0' },
    });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(
      'QUEUE_MAIL_GLOBAL_CONCURRENCY="0" is not valid; expected a whole number from 1 to 100,000.',
    );
  });
});
