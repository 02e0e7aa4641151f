// Burn-down: pre-insert N no-op jobs, then time one worker process draining them.
//   node bench/burn-down.mjs --backend sqlite|pgsql --jobs 20000 --concurrency 1,10,50 --rounds 3
import { arg, defineJob, makeWorker, median, openStorage } from './lib.mjs';

const backend = arg('backend', 'sqlite');
const jobs = Number(arg('jobs', '20000'));
const rounds = Number(arg('rounds', '3'));
const levels = arg('concurrency', '1,10,50').split(',').map(Number);

const noop = await defineJob({ name: 'noop', tries: 1, handle() {} });

async function round(concurrency) {
  const storage = await openStorage(backend);
  try {
    const rows = Array.from({ length: jobs }, (_, i) => ({
      name: 'noop',
      queue: 'default',
      payload: `{"i":${i}}`,
      priority: 0,
      maxTries: 1,
      delayMs: 0,
    }));
    for (let i = 0; i < rows.length; i += 1000) await storage.driver.push(rows.slice(i, i + 1000));
    const worker = await makeWorker(storage.driver, [noop], { concurrency, stopWhenEmpty: true });
    let processed = 0;
    worker.on('job:processed', () => processed++);
    const start = performance.now();
    await worker.run();
    const seconds = (performance.now() - start) / 1000;
    if (processed !== jobs) throw new Error(`processed ${processed} of ${jobs}`);
    return jobs / seconds;
  } finally {
    await storage.close();
  }
}

console.log(`| backend | concurrency | jobs | jobs/s (median of ${rounds}) | min | max |`);
console.log('|---|---|---|---|---|---|');
for (const c of levels) {
  const results = [];
  for (let r = 0; r < rounds; r++) results.push(await round(c));
  const f = (x) => Math.round(x).toLocaleString('en-US');
  console.log(
    `| ${backend} | ${c} | ${jobs} | ${f(median(results))} | ${f(Math.min(...results))} | ${f(Math.max(...results))} |`,
  );
}
