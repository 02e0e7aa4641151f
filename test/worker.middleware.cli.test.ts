/**
 * What `run queue:work` prints for a job skipIf drops: a SKIPPED line with the reason, a
 * job:skipped event with --json, and nothing in failed jobs.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type TestApp } from './helpers/app.js';

/** Each test runs `bin/run` several times: generous on a loaded machine. */
const SLOW = 60_000;

const CONFIG = `
import { appendFileSync } from 'node:fs';
import { defineConfig, defineJob, skipIf } from 'jobsmith';
import { z } from 'zod';

export const digest = defineJob({
  name: 'digest.send',
  schema: z.object({ userId: z.number() }),
  middleware: [skipIf((p) => p.userId === 0 && 'user unsubscribed')],
  async handle(p) { appendFileSync('runs.log', 'digest:' + p.userId + '\\n'); },
});
export default defineConfig({ jobs: [digest] });
`;

describe('queue:work and a job skipIf drops', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await createApp('sqlite', CONFIG);
  }, SLOW);
  afterAll(() => app?.cleanup());

  const ok = async (args: string[]) => {
    const result = await app.run(args);
    expect(result.code, result.stderr).toBe(0);
    return result;
  };
  const work = (...flags: string[]) =>
    ok(['queue:work', '--stop-when-empty', '--sleep', '100ms', ...flags]);

  it(
    'prints SKIPPED with the reason, and records no failed job',
    async () => {
      await ok(['queue:dispatch', 'digest.send', '--payload', '{"userId":0}']);
      const worked = await work();
      expect(worked.stdout).toMatch(/ digest\.send #\S+ SKIPPED \S+ attempt 1 user unsubscribed\n/);
      expect(worked.stdout).toContain('Worker stopped (empty) after 1 job(s).');
      expect(JSON.parse((await ok(['queue:failed', '--json'])).stdout)).toEqual([]);
      // The handler would have written runs.log.
      expect(existsSync(path.join(app.cwd, 'runs.log'))).toBe(false);
    },
    SLOW,
  );

  it(
    'emits job:skipped with the reason in --json output',
    async () => {
      await ok(['queue:dispatch', 'digest.send', '--payload', '{"userId":0}']);
      const worked = await work('--json');
      const events = worked.stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { event: string; name?: string; reason?: string });
      expect(events.filter((e) => e.event === 'job:skipped')).toEqual([
        expect.objectContaining({ name: 'digest.send', reason: 'user unsubscribed', attempt: 1 }),
      ]);
      expect(events.map((e) => e.event)).not.toContain('job:processed');
    },
    SLOW,
  );
});
