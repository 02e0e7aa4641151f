/**
 * The chain hand-off's crash windows, driven step by step in this process against real storage
 * (the settle hook the worker calls, src/workflows/chains/settle-job.ts): a step whose hand-off
 * runs again (its completion was lost in a crash) dispatches nothing twice, before or after the
 * next step ended; a catch runs once however often its failed step is settled.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { defineJob } from '../../src/jobs/define.js';
import { disconnect, sharedApp } from '../../src/queue/client.js';
import type { ClaimedJob, QueueDriver } from '../../src/queue/driver.js';
import { chain } from '../../src/workflows/chains/chain.js';
import { settleChainJob } from '../../src/workflows/chains/settle-job.js';
import { stepJob } from '../../src/workflows/chains/stored-step.js';
import { findChain } from '../../src/workflows/chains/store.js';
import { step } from '../../src/workflows/step.js';
import {
  createApp,
  describeBackend,
  type BackendKind,
  type TestApp,
} from '../reliability/harness.js';

const noop = defineJob<{ n: number }>({ name: 'noop', async handle() {} });

export function chainHandoffSpecs(kind: BackendKind): void {
  describeBackend(kind, 'workflows: chain hand-off across crashes', () => {
    let app: TestApp;
    let driver: QueueDriver;
    const saved = { ...process.env };

    beforeEach(async () => {
      app = await createApp(kind);
      // chain().dispatch() and the hand-off use the environment's storage, as in an app.
      for (const [name, value] of Object.entries(app.env)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
      driver = await (await sharedApp()).queues().get();
    });
    afterEach(async () => {
      await disconnect();
      process.env = { ...saved };
      await app?.cleanup();
    });

    /** The steps waiting or held, by their payload's n. */
    const waiting = async () => {
      const rows = await driver.list('default', undefined, 0, 100);
      return rows.map((r) => (JSON.parse(r.payload) as { n: number }).n).sort();
    };
    const claim = async (): Promise<ClaimedJob> => {
      const [job] = await driver.claim(['default'], 1, 30_000);
      expect(job).toBeDefined();
      return job!;
    };
    const knex = async () => (await (await sharedApp()).db()).knex;
    const three = () =>
      chain([step(noop, { n: 0 }), step(noop, { n: 1 }), step(noop, { n: 2 })])
        .catch(step(noop, { n: -1 }))
        .dispatch();

    it('a step handed on twice (its completion lost) dispatches its next step once', async () => {
      const { id } = await three();
      const first = await claim();
      await settleChainJob(first, 'complete', driver, undefined);
      await settleChainJob(first, 'complete', driver, undefined);
      expect(await waiting()).toEqual([0, 1]);
      expect(await findChain(await knex(), id)).toMatchObject({ position: 1, status: 'running' });

      // Step 1 runs and ends (its unique key freed); then step 0 runs again, late.
      await driver.complete([first]);
      const second = await claim();
      await settleChainJob(second, 'complete', driver, undefined);
      await driver.complete([second]);
      await settleChainJob(first, 'complete', driver, undefined);
      expect(await waiting()).toEqual([2]);
    });

    it('a crash between dispatching the next step and moving the chain on loses nothing and forks nothing', async () => {
      const { id } = await three();
      const first = await claim();
      const stored = (await findChain(await knex(), id))!;
      // What the hand-off does before it writes `position`, then the crash.
      await driver.push([stepJob(stored.steps[1]!, { id, index: 1, length: 3 })]);
      // Step 0's lease runs out; step 1 runs and ends meanwhile.
      const all = await driver.claim(['default'], 1, 30_000);
      const second = all[0]!;
      expect(JSON.parse(second.payload)).toEqual({ n: 1 });
      await settleChainJob(second, 'complete', driver, undefined);
      await driver.complete([second]);
      // Step 0 runs again and hands on again: the chain is past it.
      await settleChainJob(first, 'complete', driver, undefined);
      expect(await waiting()).toEqual([0, 2]);
      expect(await findChain(await knex(), id)).toMatchObject({ position: 2 });
    });

    it('a failed step settled again after its catch ran dispatches no second catch', async () => {
      const { id } = await three();
      const first = await claim();
      await settleChainJob(first, 'fail', driver, undefined);
      await settleChainJob(first, 'fail', driver, undefined);
      expect(await waiting()).toEqual([-1, 0]);
      expect(await findChain(await knex(), id)).toMatchObject({ status: 'failed', failedIndex: 0 });
      await driver.complete([first]);
      const catcher = await claim();
      expect(catcher.headers?.['jobsmith-chain']).toBe(`${id}:catch:0:3`);
      await settleChainJob(catcher, 'complete', driver, undefined);
      await driver.complete([catcher]);
      await settleChainJob(first, 'fail', driver, undefined);
      expect(await waiting()).toEqual([]);
    });
  });
}
