// One contender in its own process, driven by bench/run.mjs over IPC, so that contenders never
// share a heap, a JIT or an event loop, and worker RSS is the worker's alone.
//   worker   open, say `ready`; on `go` start working; report the first job's start; on `rss`
//            report memory after GC; on `stop` stop and report how many jobs it started
//   enqueue  time N enqueues (single awaited calls, or bulks) and report
//   pickup   an idle worker in this process; time enqueue call → handler start, one at a time
import { loadModule } from './contenders/index.mjs';
import { epoch, sleep } from './lib.mjs';

const task = JSON.parse(process.argv[2]);
const send = (msg, then) => process.send(msg, then);
const mod = await loadModule(task.module);
const handle = await mod.open(task.ctx, task.variant);

async function worker() {
  let started = 0;
  let running;
  const onStart = () => {
    if (started++ === 0) send({ type: 'first', at: epoch() });
  };
  process.on('message', async (msg) => {
    if (msg.cmd === 'go') {
      running = await handle.work({ concurrency: task.concurrency, onStart });
      send({ type: 'going' });
    } else if (msg.cmd === 'rss') {
      for (let i = 0; i < 3; i++) globalThis.gc?.();
      const m = process.memoryUsage();
      send({ type: 'rss', rss: m.rss, heapUsed: m.heapUsed, started });
    } else if (msg.cmd === 'stop') {
      await running?.stop();
      await handle.close();
      send({ type: 'stopped', started }, () => process.exit(0));
    }
  });
  send({ type: 'ready' });
}

async function enqueue() {
  const { kind, jobs, bulkSize, maxSeconds } = task;
  // Warm-up: connections, prepared statements, JIT.
  if (kind === 'single') for (let i = 0; i < 50; i++) await handle.add(-i);
  else await handle.addBulk(-bulkSize, bulkSize);
  const t0 = epoch();
  const deadline = t0 + maxSeconds * 1000;
  let done = 0;
  while (done < jobs && epoch() < deadline) {
    if (kind === 'single') {
      await handle.add(done);
      done++;
    } else {
      const n = Math.min(bulkSize, jobs - done);
      await handle.addBulk(done, n);
      done += n;
    }
  }
  return { jobs: done, seconds: (epoch() - t0) / 1000 };
}

async function pickup() {
  const { samples, warmup, maxSeconds } = task;
  let resolveStart;
  const running = await handle.work({ concurrency: 1, onStart: () => resolveStart?.(epoch()) });
  await sleep(500); // let LISTEN connections and first polls settle
  const latencies = [];
  const deadline = epoch() + maxSeconds * 1000;
  for (let i = 0; i < warmup + samples && epoch() < deadline; i++) {
    const started = new Promise((r) => (resolveStart = r));
    const t0 = epoch();
    await handle.add(i);
    const at = await started;
    if (i >= warmup) latencies.push(at - t0);
    // Wait until the job is settled and the worker idle again before the next sample.
    while ((await handle.remaining()) > 0) await sleep(1);
    await sleep(2);
  }
  await running.stop();
  if (latencies.length === 0) throw new Error(`no sample within ${maxSeconds} s`);
  return { latencies };
}

try {
  if (task.mode === 'worker') await worker();
  else {
    const result = task.mode === 'enqueue' ? await enqueue() : await pickup();
    await handle.close();
    send({ type: 'result', ...result }, () => process.exit(0));
  }
} catch (error) {
  console.error(`${task.module}${task.variant ? `/${task.variant}` : ''}:`, error);
  process.exit(1);
}
