import { existsSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import type { App } from '../cli/app.js';
import { JobsmithError } from '../errors.js';
import { resolveSchedule } from '../schedule/resolve.js';
import { fail, ok, skip, type CheckResult } from './check.js';
import { readSupervisorConf } from './supervisor-conf.js';
import { nearestExisting, probeFile, probeFolder, writeFailure } from './write-probe.js';

/* The checks of `run doctor`, one function each. Each returns a result and never throws. */

/** `90s`, `0.5s`: durations as the flags and variables take them. */
const seconds = (ms: number) => `${Math.round(ms / 100) / 10}s`;
const message = (error: unknown) => (error instanceof Error ? error.message : String(error));
const hintOf = (error: unknown, otherwise: string) =>
  (error instanceof JobsmithError && error.hint) || otherwise;

export async function checkConfig(app: App): Promise<CheckResult> {
  const name = 'Configuration';
  try {
    const { file, config } = await app.config();
    if (!file) {
      return fail(
        name,
        `No jobsmith.config.ts in ${app.cwd}, so workers know no jobs.`,
        'Run from the folder that holds jobsmith.config.ts, or pass --config PATH (or set JOBSMITH_CONFIG).',
      );
    }
    const jobs = config.jobs?.length ?? 0;
    const entries = resolveSchedule(config, file).length;
    return ok(
      name,
      `${relative(app.cwd, file) || file}: ${jobs} job(s), ${entries} schedule entr${entries === 1 ? 'y' : 'ies'}`,
    );
  } catch (error) {
    return fail(name, message(error), hintOf(error, 'Fix the config file.'));
  }
}

export function checkLogFolder(app: App): CheckResult {
  const name = 'Log folder';
  const file = resolve(app.cwd, app.env.LOG_FILE);
  const folder = dirname(file);
  // A missing folder is created on first use: what matters is the nearest one that exists.
  const existing = nearestExisting(folder);
  const target = existsSync(file) ? file : existing;
  try {
    if (target === file) probeFile(file);
    else probeFolder(existing);
  } catch (error) {
    return fail(
      name,
      `${target}: ${writeFailure(error)}`,
      target === file
        ? `Make ${file} writable by the user that runs the workers (chown USER ${file}), or set LOG_FILE.`
        : `Make ${folder} writable by the user that runs the workers (mkdir -p ${folder} && chown USER ${folder}), or set LOG_FILE.`,
    );
  }
  return ok(
    name,
    existing === folder
      ? `${target === file ? file : folder} is writable`
      : `${folder} will be created (in writable ${existing})`,
  );
}

export async function checkTimeouts(app: App): Promise<CheckResult> {
  const name = 'Job timeouts';
  const leaseMs = app.env.QUEUE_LEASE;
  let jobs;
  try {
    jobs = (await app.registry()).all();
  } catch {
    return skip(name, 'needs a valid configuration');
  }
  if (jobs.length === 0) return skip(name, 'no jobs registered');
  // A lease is renewed while its job runs, but not while a CPU-bound handler blocks the event
  // loop: then a timeout past the lease lets another worker claim the job while it still runs.
  // Equal counts as fine, because the defaults (timeout 60, QUEUE_LEASE 60s) are equal.
  const tooLong = jobs.filter((j) => j.timeout * 1000 > leaseMs);
  if (tooLong.length === 0) {
    const longest = Math.max(...jobs.map((j) => j.timeout));
    return ok(
      name,
      `no timeout (longest ${longest}s) is longer than QUEUE_LEASE ${seconds(leaseMs)}`,
    );
  }
  const longest = Math.max(...tooLong.map((j) => j.timeout));
  return fail(
    name,
    `timeout longer than QUEUE_LEASE ${seconds(leaseMs)}: ${tooLong.map((j) => `${j.name} (${j.timeout}s)`).join(', ')}`,
    `Set QUEUE_LEASE above the longest timeout (e.g. QUEUE_LEASE=${Math.ceil(longest * 1.5)}s), or lower the timeout of ${tooLong.map((j) => j.name).join(', ')}.`,
  );
}

/** Signals queue:work and schedule:work drain on (supervisor's stopsignal, without SIG). */
const STOP_SIGNALS = ['TERM', 'INT', 'QUIT'];

/** Conf files looked for when --supervisor is not given, relative to the working directory. */
export const SUPERVISOR_CANDIDATES = [
  '/etc/supervisor/conf.d/jobsmith.conf',
  'examples/supervisor/jobsmith.conf',
];

export function checkSupervisor(app: App, explicit?: string): CheckResult {
  const name = 'Supervisor';
  const file =
    explicit ?? SUPERVISOR_CANDIDATES.map((c) => resolve(app.cwd, c)).find((c) => existsSync(c));
  if (!file) {
    return skip(
      name,
      `no conf found (looked for ${SUPERVISOR_CANDIDATES.join(', ')}); pass --supervisor PATH`,
    );
  }
  let programs;
  try {
    programs = readSupervisorConf(file);
  } catch (error) {
    return fail(
      name,
      `${file}: ${message(error)}`,
      'Pass --supervisor with a readable supervisor conf.',
    );
  }
  if (programs.length === 0)
    return skip(name, `${file} runs no queue:work or schedule:work program`);
  const problems: string[] = [];
  const fixes: string[] = [];
  for (const p of programs) {
    if (!STOP_SIGNALS.includes(p.stopsignal)) {
      problems.push(`${p.program}: stopsignal=${p.stopsignal} does not let it drain`);
      fixes.push(`set stopsignal=TERM in [program:${p.program}]`);
    }
    // queue:restart, --max-jobs and --max-time end a worker with exit 0 so that supervisor
    // starts a fresh one; under supervisor's default (autorestart=unexpected, exitcodes=0)
    // it would stay down.
    const restartsOnZero =
      p.autorestart === 'true' || (p.autorestart === 'unexpected' && !p.exitcodes.includes(0));
    if (p.command === 'queue:work' && !restartsOnZero) {
      problems.push(
        `${p.program}: autorestart=${p.autorestart} leaves it down after it exits 0 (queue:restart, --max-jobs, --max-time)`,
      );
      fixes.push(`set autorestart=true in [program:${p.program}]`);
    }
    if (p.graceMs === undefined) {
      problems.push(`${p.program}: cannot read --grace ${p.graceText}`);
      fixes.push(`write --grace as a duration (30s) in [program:${p.program}]`);
    } else if (!(p.stopwaitsecs * 1000 > p.graceMs)) {
      const needed = Math.ceil(p.graceMs / 1000) + 10;
      problems.push(
        `${p.program}: stopwaitsecs=${p.stopwaitsecs} is not longer than --grace ${seconds(p.graceMs)}, so supervisor kills it mid-drain`,
      );
      fixes.push(`set stopwaitsecs=${needed} in [program:${p.program}]`);
    }
  }
  if (problems.length > 0) {
    return fail(name, `${file}: ${problems.join('; ')}`, `In ${file}: ${fixes.join('; ')}.`);
  }
  return ok(
    name,
    `${file}: ${programs.map((p) => `${p.program} stopwaitsecs=${p.stopwaitsecs} > --grace ${seconds(p.graceMs!)}`).join(', ')}`,
  );
}
