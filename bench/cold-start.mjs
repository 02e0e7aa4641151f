#!/usr/bin/env node
// Cold start of the `run` binary next to a bare `node -e 0`: the median wall time of N
// spawns of each command, printed as a markdown table for docs/performance.md.
//
//   node bench/cold-start.mjs [--runs 21]
//
// Dependency-free on purpose (node:* only): bench/ gets its own package.json later, and this
// script must keep working without installing it. Needs a built package (`npm run build`).
// migrate:status runs against a SQLite file migrated beforehand, in a temporary folder.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const RUN = fileURLToPath(new URL('../bin/run', import.meta.url));
const runsFlag = process.argv.indexOf('--runs');
const RUNS = runsFlag > 0 ? Number(process.argv[runsFlag + 1]) : 21;
if (!Number.isInteger(RUNS) || RUNS < 1) {
  console.error(`--runs must be a whole number ≥ 1, got "${process.argv[runsFlag + 1]}".`);
  process.exit(2);
}
if (!existsSync(fileURLToPath(new URL('../dist/src/cli/main.js', import.meta.url)))) {
  console.error('jobsmith is not built: run `npm run build` first.');
  process.exit(1);
}

const cwd = mkdtempSync(join(tmpdir(), 'jobsmith-bench-'));
// Only the variables a default install sees: no DB_* or LOG_* from the caller's shell.
const env = { PATH: process.env.PATH, HOME: process.env.HOME, NO_COLOR: '1' };

function exec(args) {
  const started = process.hrtime.bigint();
  const result = spawnSync(process.execPath, args, { cwd, env, encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  if (result.status !== 0) {
    throw new Error(`node ${args.join(' ')} exited ${result.status}:\n${result.stderr}`);
  }
  return ms;
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

const cases = [
  { label: '`node -e 0`', args: ['-e', '0'] },
  { label: '`./bin/run --help`', args: [RUN, '--help'] },
  { label: '`./bin/run migrate:status` (migrated SQLite)', args: [RUN, 'migrate:status'] },
];

try {
  exec([RUN, 'migrate']);
  // One warm-up spawn each so the first sample does not pay for a cold disk cache.
  for (const c of cases) exec(c.args);
  const samples = cases.map(() => []);
  // Interleave the commands so a burst of load on the machine hits all of them alike.
  for (let i = 0; i < RUNS; i++) {
    cases.forEach((c, j) => samples[j].push(exec(c.args)));
  }
  const base = median(samples[0]);
  const fmt = (ms) => `${ms.toFixed(0)} ms`;
  console.log(
    `Median of ${RUNS} runs each, node ${process.version}, ${process.platform}/${process.arch}.\n`,
  );
  console.log('| Command | Median | Min | Max | × bare node |');
  console.log('| --- | ---: | ---: | ---: | ---: |');
  cases.forEach((c, j) => {
    const m = median(samples[j]);
    const row = [c.label, fmt(m), fmt(Math.min(...samples[j])), fmt(Math.max(...samples[j]))];
    console.log(`| ${row.join(' | ')} | ${(m / base).toFixed(2)}× |`);
  });
} finally {
  rmSync(cwd, { recursive: true, force: true });
}
