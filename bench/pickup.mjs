// Pickup latency at low load: an idle worker, one job at a time; time from the dispatch call
// to the handler's start.   node bench/pickup.mjs --backend sqlite|pgsql --samples 1000
import { arg, defineJob, makeWorker, openStorage, percentile } from './lib.mjs';

const backend = arg('backend', 'sqlite');
const samples = Number(arg('samples', '1000'));

const storage = await openStorage(backend);
let started;
const probe = await defineJob({
  name: 'probe',
  tries: 1,
  handle() {
    started?.(performance.now());
  },
});
// A long idle sleep: only notifications (LISTEN/NOTIFY, or the in-process wake and
// data_version polling on SQLite) can make pickup fast.
const worker = await makeWorker(storage.driver, [probe], { sleepMs: 10_000 });
const running = worker.run();
const latencies = [];
const row = {
  name: 'probe',
  queue: 'default',
  payload: '{}',
  priority: 0,
  maxTries: 1,
  delayMs: 0,
};
for (let i = 0; i < samples; i++) {
  const handled = new Promise((resolve) => (started = resolve));
  const t0 = performance.now();
  await storage.driver.push([row]);
  latencies.push((await handled) - t0);
  await new Promise((r) => setTimeout(r, 2)); // let the worker go idle again
}
worker.stop();
await running;
await storage.close();
const f = (x) => x.toFixed(2);
console.log(`| backend | samples | p50 ms | p95 ms | p99 ms |`);
console.log('|---|---|---|---|---|');
console.log(
  `| ${backend} | ${samples} | ${f(percentile(latencies, 50))} | ${f(percentile(latencies, 95))} | ${f(percentile(latencies, 99))} |`,
);
