/**
 * The config's `workerQueues`: the queues `run queue:work` takes, in priority order, when it is
 * given no --queue (as a Horizon supervisor's queue list); --queue still wins, and a list that
 * is not one is refused when the config loads.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createApp, type TestApp } from './helpers/app.js';

const config = (workerQueues: string) => `
import { defineConfig, defineJob } from 'jobsmith';
export const note = defineJob({ name: 'note', async handle() {} });
export default defineConfig({ jobs: [note]${workerQueues ? `, workerQueues: ${workerQueues}` : ''} });
`;

let app: TestApp | undefined;
afterEach(async () => {
  await app?.cleanup();
  app = undefined;
});

/** Dispatches one `note` to each queue, in this order. */
async function dispatchTo(queues: string[]): Promise<void> {
  for (const queue of queues) {
    const r = await app!.run(['queue:dispatch', 'note', '--queue', queue, '--payload', '{}']);
    expect(r.code, r.stderr).toBe(0);
  }
}

/** The queues of the jobs a `queue:work --stop-when-empty --json` ran, in the order it ran them. */
async function work(extra: string[] = []): Promise<string[]> {
  const r = await app!.run(['queue:work', '--stop-when-empty', '--json', ...extra], {
    spawn: true,
  });
  expect(r.code, r.stderr).toBe(0);
  return r.stdout
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { event: string; queue?: string })
    .filter((e) => e.event === 'job:processed')
    .map((e) => e.queue!);
}

describe('workerQueues in the config', () => {
  it('gives queue:work its queues in priority order when no --queue is given', async () => {
    app = await createApp('sqlite', config("['high', 'low']"));
    await dispatchTo(['low', 'high', 'default', 'low', 'high']);
    expect(await work()).toEqual(['high', 'high', 'low', 'low']);
  });

  it('yields to --queue, and without it queue:work takes default', async () => {
    app = await createApp('sqlite', config("['high']"));
    await dispatchTo(['high', 'default']);
    expect(await work(['--queue', 'default'])).toEqual(['default']);
    await app.cleanup();
    app = await createApp('sqlite', config(''));
    await dispatchTo(['high', 'default']);
    expect(await work()).toEqual(['default']);
  });

  it('refuses a list that is empty, names a bad queue, or names one twice (exit 1)', async () => {
    for (const [list, problem] of [
      ['[]', '`workerQueues` must be a non-empty array of queue names, in priority order.'],
      ["['high', 'a b']", 'workerQueues[1] "a b" is not a queue name'],
      ["['high', 'high']", 'workerQueues names "high" twice.'],
    ]) {
      app = await createApp('sqlite', config(list!));
      const r = await app.run(['queue:work', '--stop-when-empty'], { spawn: true });
      expect(r.code, list).toBe(1);
      expect(r.stderr).toContain(problem);
      expect(r.stderr).not.toContain('    at ');
      await app.cleanup();
      app = undefined;
    }
  });
});
