/**
 * Chains and batches move on only when a worker settles their jobs: on the `sync` connection
 * (jobs run inside dispatch) they are refused before anything is stored, rather than a chain
 * stopping after its first step and a batch never calling back.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { App } from '../../src/cli/app.js';
import { defineJob } from '../../src/jobs/define.js';
import { batch } from '../../src/workflows/batches/builder.js';
import { dispatchChain } from '../../src/workflows/chains/dispatch-chain.js';
import { step } from '../../src/workflows/step.js';
import { createApp, type TestApp } from '../helpers/app.js';

const CONFIG = `
import { defineConfig, defineJob } from 'jobsmith';
export default defineConfig({ jobs: [defineJob({ name: 'noop', async handle() {} })] });
`;

const ran: unknown[] = [];
const noop = defineJob({
  name: 'noop',
  async handle(p: { n: number }) {
    ran.push(p);
  },
});

describe('workflows on the sync connection', () => {
  let test: TestApp;
  let app: App;
  beforeAll(async () => {
    test = await createApp('sqlite', CONFIG);
    const lines = Object.entries({ ...test.env, LOG_LEVEL: 'silent' }).filter(([, v]) => v);
    writeFileSync(path.join(test.cwd, '.env'), lines.map(([k, v]) => `${k}=${v}`).join('\n'));
    app = new App(test.cwd);
  }, 60_000);
  afterAll(async () => {
    await app?.close();
    await test?.cleanup();
  });

  it('refuses a chain on sync, naming the fix, and stores nothing', async () => {
    await expect(
      dispatchChain(app, [step(noop, { n: 1 }), step(noop, { n: 2 })], { connection: 'sync' }),
    ).rejects.toMatchObject({
      name: 'ConfigError',
      message:
        'A chain needs a worker, but the connection is sync: the sync connection runs each job inside dispatch(), so only its first step would run.',
      hint: "Dispatch the chain on a queue connection: QUEUE_CONNECTION=database or redis, .onConnection('database') in code, or --connection database on the command line.",
    });
    const { knex } = await app.db();
    expect(await knex('job_chains').count({ n: '*' })).toEqual([{ n: 0 }]);
    expect(ran).toEqual([]);
  });

  it('refuses a batch on sync, naming the fix, and stores nothing', async () => {
    const { knex } = await app.db();
    await expect(
      batch([step(noop, { n: 1 })]).dispatchTo({
        db: knex,
        dispatcher: app.dispatcher(),
        connection: 'sync',
      }),
    ).rejects.toMatchObject({
      name: 'ConfigError',
      message: expect.stringMatching(/^A batch needs a worker, but the connection is sync/),
    });
    expect(await knex('job_batches').count({ n: '*' })).toEqual([{ n: 0 }]);
    expect(ran).toEqual([]);
  });
});
