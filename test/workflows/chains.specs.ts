/**
 * Chains (issue 18) on a real backend, through real `run queue:work` processes: steps run in
 * order, a failing step stops the chain and its catch runs once, ctx.chain.append/prepend, a
 * cancelled step stops the chain without catch, and a chain across a worker killed with
 * SIGKILL resumes at the step it was on. The test app's `starter` job dispatches the chain from
 * inside a worker (chain().dispatch() uses the environment's storage, as application code does).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { waitFor } from '../helpers/wait.js';
import {
  createApp,
  describeBackend,
  migrate,
  type BackendKind,
  type TestApp,
} from '../reliability/harness.js';

/**
 * The app: `starter` {steps, catch?} dispatches a chain of `step` jobs (and `catcher` as its
 * catch); each writes `<event> <name> <index> <length> <attempt> <pid> <job id>` to RUNS_FILE.chain.
 * A step spec: {name, fail?: throws Permanent, failUnless?: throws Permanent until the file
 * exists, gate?: waits for the file (or its cancel),
 * append?/prepend?: names of steps to add}.
 */
const CONFIG = `
import { appendFileSync, existsSync } from 'node:fs';
import { chain, defineConfig, defineJob, Permanent, step } from 'jobsmith';

type Spec = { name: string; fail?: boolean; failUnless?: string; gate?: string; append?: string[]; prepend?: string[] };
const file = process.env.RUNS_FILE + '.chain';
const record = (event: string, name: string, ctx: any) =>
  appendFileSync(file, \`\${event} \${name} \${ctx.chain?.index} \${ctx.chain?.length} \${ctx.attempt} \${process.pid} \${ctx.jobId}\\n\`);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const stepJob = defineJob<Spec>({
  name: 'step',
  tries: 3,
  backoff: 0,
  timeout: 120,
  async handle(p, ctx) {
    record('start', p.name, ctx);
    // A gate holds the step until the file exists, or until it is cancelled (queue:cancel).
    if (p.gate) while (!existsSync(p.gate) && !ctx.signal.aborted) await sleep(20);
    if (ctx.signal.aborted) throw ctx.signal.reason;
    if (p.fail || (p.failUnless && !existsSync(p.failUnless)))
      throw new Permanent('step ' + p.name + ' failed on purpose');
    if (p.append) ctx.chain!.append(p.append.map((name) => step(stepJob, { name })));
    if (p.prepend) ctx.chain!.prepend(p.prepend.map((name) => step(stepJob, { name })));
    record('done', p.name, ctx);
  },
});

const catcher = defineJob<{ name: string }>({
  name: 'catcher',
  tries: 1,
  async handle(p, ctx) {
    record('catch', p.name, ctx);
  },
});

const starter = defineJob<{ steps: Spec[]; catch?: boolean }>({
  name: 'starter',
  tries: 1,
  async handle(p) {
    let c = chain(p.steps.map((s) => step(stepJob, s))).onQueue('chained');
    if (p.catch) c = c.catch(step(catcher, { name: 'catch' }));
    const { id, firstJobId } = await c.dispatch();
    appendFileSync(file, \`chain \${id} \${firstJobId}\\n\`);
  },
});

export default defineConfig({ jobs: [stepJob, catcher, starter] });
`;

interface Line {
  event: string;
  name: string;
  index: number;
  length: number;
  attempt: number;
  pid: number;
  jobId: string;
}

export function chainSpecs(kind: BackendKind): void {
  describeBackend(kind, 'workflows: chains', () => {
    let app: TestApp;
    const lines = (): Line[] => {
      const file = path.join(app.dir, 'runs.log.chain');
      if (!existsSync(file)) return [];
      return readFileSync(file, 'utf8')
        .trim()
        .split('\n')
        .filter((l) => !l.startsWith('chain '))
        .map((l) => {
          const [event, name, index, length, attempt, pid, jobId] = l.split(' ');
          return {
            event: event!,
            name: name!,
            index: Number(index),
            length: Number(length),
            attempt: Number(attempt),
            pid: Number(pid),
            jobId: jobId!,
          };
        });
    };
    const chainRow = async () => {
      const rows = await app.backend.query('select * from job_chains');
      expect(rows).toHaveLength(1);
      return rows[0]!;
    };
    const start = (payload: unknown) => app.dispatch('starter', [payload]);
    const drain = async () => {
      const w = app.worker(['--queue', 'default,chained', '--stop-when-empty'], {
        timeoutMs: 30_000,
      });
      const result = await w.exited;
      expect(result.code, result.stderr).toBe(0);
      return w;
    };
    const done = () => lines().filter((l) => l.event === 'done');

    beforeEach(async () => {
      app = await createApp(kind);
      await migrate(app);
      writeFileSync(path.join(app.dir, 'jobsmith.config.ts'), CONFIG);
    });
    afterEach(async () => {
      await app?.cleanup();
    });

    it('runs the steps in order, each once, with ctx.chain, and ends the chain done', async () => {
      await start({ steps: [{ name: 'a' }, { name: 'b' }, { name: 'c' }] });
      await drain();
      expect(done().map((l) => [l.name, l.index, l.length])).toEqual([
        ['a', 0, 3],
        ['b', 1, 3],
        ['c', 2, 3],
      ]);
      expect(await chainRow()).toMatchObject({ status: 'done', failed_index: null });
      expect(await app.jobCount()).toBe(0);
    }, 60_000);

    it('a step that fails for good stops the chain and runs catch once, with ctx.chain', async () => {
      await start({
        steps: [{ name: 'a' }, { name: 'b', fail: true }, { name: 'c' }],
        catch: true,
      });
      await drain();
      expect(lines().map((l) => [l.event, l.name, l.index])).toEqual([
        ['start', 'a', 0],
        ['done', 'a', 0],
        ['start', 'b', 1],
        ['catch', 'catch', 1],
      ]);
      expect(await chainRow()).toMatchObject({ status: 'failed' });
      expect(Number((await chainRow()).failed_index)).toBe(1);
      const failed = await app.failedJobs();
      expect(failed.map((f) => f.name)).toEqual(['step']);
    }, 60_000);

    it('queue:retry of the step a chain failed on resumes the chain, and catch does not run again', async () => {
      const fixed = path.join(app.dir, 'fixed');
      await start({
        steps: [{ name: 'a' }, { name: 'b', failUnless: fixed }, { name: 'c' }],
        catch: true,
      });
      await drain();
      expect(await chainRow()).toMatchObject({ status: 'failed' });
      writeFileSync(fixed, '');
      const retry = await app.run(['queue:retry', 'all']);
      expect(retry.code, retry.stderr).toBe(0);
      await drain();
      expect(lines().map((l) => [l.event, l.name, l.index])).toEqual([
        ['start', 'a', 0],
        ['done', 'a', 0],
        ['start', 'b', 1],
        ['catch', 'catch', 1],
        ['start', 'b', 1],
        ['done', 'b', 1],
        ['start', 'c', 2],
        ['done', 'c', 2],
      ]);
      expect(await chainRow()).toMatchObject({ status: 'done', position: 2 });
      expect(await app.failedJobs()).toEqual([]);
    }, 60_000);

    it('a step cancelled while it runs stops the chain without catch', async () => {
      const gate = path.join(app.dir, 'gate');
      await start({ steps: [{ name: 'a', gate }, { name: 'b' }], catch: true });
      const worker = app.worker(['--queue', 'default,chained', '--sleep', '100ms']);
      const started = await waitFor(() => lines().find((l) => l.event === 'start'), {
        timeoutMs: 20_000,
        message: 'waiting for step a to start',
      });
      const cancel = await app.run(['queue:cancel', started!.jobId]);
      expect(cancel.code, cancel.stderr).toBe(0);
      await worker.waitForEvents((e) => e.event === 'job:cancelled', 1, 20_000);
      await waitFor(async () => (await chainRow()).status === 'cancelled', {
        message: 'waiting for the chain to be cancelled',
      });
      const stopped = await worker.stop('SIGTERM', 10_000);
      expect(stopped.code, stopped.stderr).toBe(0);
      expect(lines().map((l) => [l.event, l.name])).toEqual([['start', 'a']]);
      expect(await app.jobCount()).toBe(0);
    }, 60_000);

    it('ctx.chain.append adds steps at the end and prepend runs them next', async () => {
      await start({
        steps: [{ name: 'a', append: ['z'], prepend: ['x', 'y'] }, { name: 'b' }],
      });
      await drain();
      expect(done().map((l) => [l.name, l.index, l.length])).toEqual([
        ['a', 0, 5],
        ['x', 1, 5],
        ['y', 2, 5],
        ['b', 3, 5],
        ['z', 4, 5],
      ]);
      expect(await chainRow()).toMatchObject({ status: 'done' });
    }, 60_000);

    it('run queue:dispatch --chain reads the steps from stdin, one a line', async () => {
      const input = [
        '{"job":"step","payload":{"name":"a"}}',
        '',
        '{"job":"step","payload":{"name":"b"}}',
      ].join('\n');
      const result = await app.run(['queue:dispatch', '--chain', '--queue', 'chained', '--json'], {
        input,
      });
      expect(result.code, result.stderr).toBe(0);
      const printed = JSON.parse(result.stdout) as {
        id: string;
        firstJobId: string;
        steps: number;
      };
      expect(printed.steps).toBe(2);
      await drain();
      expect(done().map((l) => [l.name, l.index, l.length])).toEqual([
        ['a', 0, 2],
        ['b', 1, 2],
      ]);
      expect(await chainRow()).toMatchObject({ id: printed.id, status: 'done', queue: 'chained' });

      const bad = await app.run(['queue:dispatch', 'step', '--chain'], {
        input: '{"name":"c"}\nnope\n',
      });
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain('stdin line 2: not valid JSON');
      expect(bad.stderr).toContain('Nothing was dispatched.');
      // A line that names its job as well as the command line, or its own connection: the
      // line is named, exit 2, nothing stored.
      const both = await app.run(['queue:dispatch', 'step', '--chain'], {
        input: '{"name":"c"}\n{"job":"step","payload":{"name":"d"}}\n',
      });
      expect(both.code).toBe(2);
      expect(both.stderr).toContain(
        'stdin line 2: each line is a payload of step (named on the command line), but this one names its own job "step".',
      );
      const connection = await app.run(['queue:dispatch', '--chain'], {
        input: '{"job":"step","payload":{"name":"e"},"options":{"connection":"sync"}}\n',
      });
      expect(connection.code).toBe(2);
      expect(connection.stderr).toContain(
        'stdin line 1: the step names the connection "sync", but every step of a chain runs on one: give --connection once',
      );
      // Still only the first chain: the refused lines stored none.
      await chainRow();
    }, 60_000);

    it('a chain across a worker killed with SIGKILL resumes at the step it was on', async () => {
      const gate = path.join(app.dir, 'gate');
      await start({ steps: [{ name: 'a' }, { name: 'b', gate }, { name: 'c' }] });
      const lease = ['--queue', 'default,chained', '--lease', '1', '--sleep', '100ms'];
      const first = app.worker(lease);
      await waitFor(() => lines().some((l) => l.event === 'start' && l.name === 'b'), {
        timeoutMs: 20_000,
        message: 'waiting for step b to start',
      });
      first.child.kill('SIGKILL');
      expect((await first.exited).signal).toBe('SIGKILL');
      writeFileSync(gate, '');

      // Not --stop-when-empty: step b is held until the dead worker's lease ends, and a worker
      // that started before then would find nothing to claim and stop.
      const second = app.worker(lease, { timeoutMs: 30_000 });
      await waitFor(() => lines().some((l) => l.event === 'done' && l.name === 'c'), {
        timeoutMs: 20_000,
        message: 'waiting for step c to end',
      });
      const result = await second.stop('SIGTERM', 10_000);
      expect(result.code, result.stderr).toBe(0);
      const pid = second.child.pid;
      const runs = lines().map((l) => [l.event, l.name, l.pid === pid ? 'second' : 'first']);
      expect(runs).toEqual([
        ['start', 'a', 'first'],
        ['done', 'a', 'first'],
        ['start', 'b', 'first'],
        ['start', 'b', 'second'],
        ['done', 'b', 'second'],
        ['start', 'c', 'second'],
        ['done', 'c', 'second'],
      ]);
      expect(await chainRow()).toMatchObject({ status: 'done' });
      expect(await app.jobCount()).toBe(0);
    }, 60_000);
  });
}
