import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { APP_BACKENDS, createApp, describeBackend, type TestApp } from './helpers/app.js';
import { redisCommands, redisUrl } from './helpers/services.js';

/** Each test runs `bin/run` several times: generous on a loaded machine. */
const SLOW = 120_000;

/*
 * What a real `run queue:work` does with errors its storage could not hold as they are, errors
 * that carry secrets, and a 5 MB error (issue 11, items 1 and 7), on every backend.
 */

const BOT_TOKEN = '123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1';
const MAIL_PASSWORD = 'hunter2hunter2';

const CONFIG = `
import { defineConfig, defineJob } from 'jobsmith';

export const nul = defineJob({
  name: 'nul.job',
  tries: 1,
  async handle() { throw new Error('bad\\u0000byte'); },
});
export const secret = defineJob({
  name: 'secret.job',
  tries: 2,
  backoff: [3600],
  async handle() {
    throw new Error('send via https://api.telegram.org/bot' + process.env.TELEGRAM_BOT_TOKEN +
      '/sendMessage as ' + process.env.MAIL_PASSWORD + ' to redis://:p@ssw0rd@cache with sk-abcdefghijklmnopqrstuv');
  },
});
export const huge = defineJob({
  name: 'huge.job',
  tries: 1,
  async handle() { throw new Error('start ' + 'x'.repeat(5_000_000) + ' end'); },
});
export default defineConfig({ jobs: [nul, secret, huge] });
`;

const SECRETS = /AAHdqTcv|hunter2|ssw0rd|abcdefghijklmnop/;
const env = { TELEGRAM_BOT_TOKEN: BOT_TOKEN, MAIL_PASSWORD };

interface Failed {
  name: string;
  reason: string;
  exception: string;
}

for (const backend of APP_BACKENDS) {
  describeBackend(backend, 'queue:work and the errors it stores and prints', () => {
    let app: TestApp;
    beforeAll(async () => {
      app = await createApp(backend, CONFIG);
    }, SLOW);
    afterAll(() => app?.cleanup());

    const ok = async (args: string[]) => {
      const result = await app.run(args, { env });
      expect(result.code, result.stderr).toBe(0);
      return result;
    };
    const work = (queue: string) =>
      ok(['queue:work', '--queue', queue, '--stop-when-empty', '--sleep', '100ms']);
    const failed = async (name: string) =>
      (JSON.parse((await ok(['queue:failed', '--json'])).stdout) as Failed[]).filter(
        (f) => f.name === name,
      );

    it(
      'records a handler’s error that holds NUL (tries 1) as the real error, reason error',
      async () => {
        await ok(['queue:dispatch', 'nul.job', '--queue', 'nul', '--payload', '{}']);
        const worked = await work('nul');
        expect(worked.stderr).toBe('');
        expect(worked.stdout).toMatch(/ nul\.job #\S+ FAIL .* error: bad\\u0000byte\n/);
        expect(worked.stdout).toContain('Worker stopped (empty) after 1 job(s).');
        const [row] = await failed('nul.job');
        expect(row!.reason).toBe('error');
        expect(row!.exception.split('\n')[0]).toBe('Error: bad\\u0000byte');
      },
      SLOW,
    );

    it(
      'stores a released job’s error masked, and queue:list prints it masked',
      async () => {
        await ok(['queue:dispatch', 'secret.job', '--queue', 'sec', '--payload', '{}']);
        const worked = await work('sec');
        expect(worked.stdout).toMatch(/ secret\.job #\S+ RETRY /);
        expect(worked.stdout + worked.stderr).not.toMatch(SECRETS);
        const listed = await ok(['queue:list', 'sec', '--json']);
        const [row] = JSON.parse(listed.stdout) as Array<{ id: string; last_error: string }>;
        expect(row!.last_error).toBe(
          'send via https://api.telegram.org/bot***/sendMessage as *** to redis://:***@cache with sk-***',
        );
        const table = await ok(['queue:list', 'sec']);
        expect(table.stdout).toContain('send via https://api.telegram.org/bot***/sendMessage as');
        expect(table.stdout).not.toMatch(SECRETS);
        // What the storage itself holds is masked too.
        expect(await storedError(app, 'sec', row!.id)).toBe(row!.last_error);
      },
      SLOW,
    );

    it(
      'masks errors in listings that were stored in clear (before masking on store)',
      async () => {
        await ok(['queue:dispatch', 'secret.job', '--queue', 'old', '--payload', '{}']);
        const [row] = JSON.parse((await ok(['queue:list', 'old', '--json'])).stdout) as Array<{
          id: string;
        }>;
        await setStoredError(app, 'old', row!.id, `token ${BOT_TOKEN}, password ${MAIL_PASSWORD}`);
        const listed = await ok(['queue:list', 'old', '--json']);
        expect(JSON.parse(listed.stdout)[0].last_error).toBe('token ***, password ***');
        expect((await ok(['queue:list', 'old'])).stdout).not.toMatch(SECRETS);
      },
      SLOW,
    );

    it(
      'bounds a 5 MB error in the worker’s line, its log and failed_jobs, saying how much was cut',
      async () => {
        await ok(['queue:dispatch', 'huge.job', '--queue', 'huge', '--payload', '{}']);
        const worked = await work('huge');
        const line = worked.stdout
          .split('\n')
          .find((l) => l.includes('huge.job') && l.includes('FAIL'));
        expect(line!.length).toBeLessThan(4_200);
        expect(line).toMatch(/ attempt 1 error: start x+…\[4,99\d,\d{3} characters cut\]$/);
        expect(worked.stdout.length).toBeLessThan(20_000);
        const log = path.join(app.cwd, 'storage', 'logs', 'app.log');
        expect(statSync(log).size).toBeLessThan(200_000);
        expect(readFileSync(log, 'utf8')).toMatch(/characters cut\]/);
        const [row] = await failed('huge.job');
        expect(row!.exception.length).toBeLessThanOrEqual(64_000);
        expect(row!.exception).toMatch(/^Error: start x+…\[4,9\d\d,\d{3} characters cut\]$/);
      },
      SLOW,
    );
  });
}

/** The last error a waiting job holds, read from the storage itself. */
async function storedError(app: TestApp, queue: string, id: string): Promise<string | null> {
  if (app.backend === 'redis') {
    const [reply] = await redisCommands(redisUrl(), [
      ['HGET', `${app.env.REDIS_PREFIX}:${queue}:${id.split(':').pop()}`, 'failedReason'],
    ]);
    return reply as string | null;
  }
  const row = await (await app.db()).knex('jobs').where({ id }).first('last_error');
  return row.last_error;
}

async function setStoredError(app: TestApp, queue: string, id: string, error: string) {
  if (app.backend === 'redis') {
    await redisCommands(redisUrl(), [
      ['HSET', `${app.env.REDIS_PREFIX}:${queue}:${id.split(':').pop()}`, 'failedReason', error],
    ]);
    return;
  }
  await (await app.db()).knex('jobs').where({ id }).update({ last_error: error });
}
