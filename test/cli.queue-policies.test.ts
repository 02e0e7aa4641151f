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
});
