#!/usr/bin/env node
// What a dispatch costs before it reaches the storage, and `dispatchMany` of many small jobs on
// a fresh SQLite file: the median of N rounds, with and without a schema.
//
//   node bench/dispatch-many.mjs [--jobs 10000] [--rounds 9]
//
// `prepare` is prepareJob alone (payload checks, JSON text, options), the part every dispatch
// pays whatever the backend; `dispatchMany` adds the SQLite transaction. Dependency-free
// (node:* and the built package); needs `npm run build`.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';

const flag = (name, fallback) => {
  const at = process.argv.indexOf(name);
  return at > 0 ? Number(process.argv[at + 1]) : fallback;
};
const JOBS = flag('--jobs', 10_000);
const ROUNDS = flag('--rounds', 9);
const dist = (path) =>
  pathToFileURL(fileURLToPath(new URL(`../dist/src/${path}`, import.meta.url)));

const { defineJob } = await import(dist('jobs/define.js'));
const { prepareJob } = await import(dist('jobs/prepare.js'));
const { connect } = await import(dist('queue/client.js'));
const { z } = await import('zod');

const plain = defineJob({ name: 'bench.plain', handle() {} });
const typed = defineJob({
  name: 'bench.typed',
  schema: z.object({ userId: z.number(), email: z.string(), tags: z.array(z.string()) }),
  handle() {},
});
const payload = (i) => ({ userId: i, email: `user${i}@example.com`, tags: ['a', 'b'] });

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function time(fn) {
  const samples = [];
  for (let r = 0; r < ROUNDS; r++) {
    const started = process.hrtime.bigint();
    await fn(r);
    samples.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  return median(samples);
}

const cwd = mkdtempSync(join(tmpdir(), 'jobsmith-bench-dispatch-'));
process.env.DB_DATABASE = join(cwd, 'db.sqlite');
process.env.LOG_FILE = join(cwd, 'app.log');
const client = await connect({ cwd });
try {
  const rows = [];
  for (const job of [plain, typed]) {
    const prepare = await time(() => {
      for (let i = 0; i < JOBS; i++) prepareJob(job, payload(i));
    });
    const many = await time(() =>
      client.dispatchMany(Array.from({ length: JOBS }, (_, i) => ({ job, payload: payload(i) }))),
    );
    rows.push([job.schema ? 'with a schema' : 'no schema', prepare, many]);
  }
  console.log(`| ${JOBS} small jobs | prepareJob (ms) | dispatchMany, SQLite (ms) |`);
  console.log('| --- | ---: | ---: |');
  for (const [label, prepare, many] of rows) {
    console.log(`| ${label} | ${prepare.toFixed(1)} | ${many.toFixed(1)} |`);
  }
} finally {
  await client.close();
  rmSync(cwd, { recursive: true, force: true });
}
