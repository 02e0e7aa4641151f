import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { JobsmithError, UsageError } from '../errors.js';
import { isJobName, JOB_NAME_HELP, queueUsageProblem } from '../jobs/limits.js';
import { packageRoot } from '../util/package.js';
import { afterLastImport, findJobsList, usesIdentifier } from './config-source.js';

export interface MakeJobInput {
  /** PascalCase or kebab-case name given on the command line, e.g. `SendDigest`. */
  name: string;
  /** Stored job name. @defaultValue kebab-case of `name` with dots: `send.digest` */
  jobName?: string;
  queue: string;
  tries: number;
  timeout: number;
  /** Folder for job files. */
  dir: string;
  /** Config file to register the job in (created when missing). */
  configFile: string;
  force: boolean;
}

export interface MakeJobResult {
  file: string;
  exportName: string;
  jobName: string;
  /** How the job was registered, or the exact instruction when it could not be. */
  registration: { done: true; file: string } | { done: false; instruction: string };
}

function words(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((w) => w.toLowerCase());
}

/** What makeJob will write, checked: see planJob. */
export interface JobPlan {
  input: MakeJobInput;
  file: string;
  exportName: string;
  jobName: string;
  /** The config already imports this very job file: a re-run with --force. */
  regenerating: boolean;
  registration: { text?: string; result: MakeJobResult['registration'] };
}

/** Writes a job file from the template and registers it in the config file (planJob, writeJob). */
export function makeJob(input: MakeJobInput): MakeJobResult {
  return writeJob(planJob(input));
}

/**
 * Checks everything before anything is written: a bad name or queue (UsageError), an existing
 * file without `force` (JobsmithError), and how the config file will be edited. The caller
 * checks that the job name is free (it needs the loaded config) unless `regenerating`.
 */
export function planJob(input: MakeJobInput): JobPlan {
  if (!/^[A-Za-z][A-Za-z0-9_-]*$/.test(input.name)) {
    throw new UsageError(
      `Job name "${input.name}" must start with a letter and hold only letters, digits, - and _ (e.g. SendDigest).`,
    );
  }
  const parts = words(input.name);
  const exportName = parts.map((w, i) => (i ? w[0]!.toUpperCase() + w.slice(1) : w)).join('');
  const jobName = input.jobName ?? parts.join('.');
  if (!isJobName(jobName)) {
    throw new UsageError(`--job-name must be a job name: ${JOB_NAME_HELP}; got "${jobName}".`);
  }
  const queueProblem = queueUsageProblem(input.queue, '--queue must be a queue name:');
  if (queueProblem) throw new UsageError(queueProblem);
  const file = resolve(input.dir, `${parts.join('-')}.ts`);
  if (existsSync(file) && !input.force) {
    throw new JobsmithError(`${file} already exists.`, { hint: 'Pass --force to overwrite it.' });
  }
  const registration = planRegistration(input.configFile, file, exportName);
  return {
    input,
    file,
    exportName,
    jobName,
    regenerating: registration.regenerating === true,
    registration,
  };
}

/** Writes the job file and the config file as planned. */
export function writeJob(plan: JobPlan): MakeJobResult {
  const { input, file, exportName, jobName, registration } = plan;
  const template = readFileSync(join(packageRoot(), 'templates', 'job.ts.tpl'), 'utf8');
  const source = template
    .replaceAll('__EXPORT__', exportName)
    .replaceAll('__NAME__', jobName)
    .replaceAll('__QUEUE__', input.queue)
    .replaceAll('__TRIES__', String(input.tries))
    .replaceAll('__TIMEOUT__', String(input.timeout));
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, source);
  if (registration.text !== undefined) writeFileSync(input.configFile, registration.text);
  return { file, exportName, jobName, registration: registration.result };
}

/**
 * The config file's new text with the import and the entry in `jobs: [...]`, or the exact
 * instruction when it cannot be edited safely: no `jobs: [` in the code (one in a comment does
 * not count), more than one, or the export name already taken.
 */
function planRegistration(
  configFile: string,
  jobFile: string,
  exportName: string,
): { text?: string; regenerating?: boolean; result: MakeJobResult['registration'] } {
  let spec = relative(dirname(configFile), jobFile).replace(/\.ts$/, '.js');
  if (!spec.startsWith('.')) spec = `./${spec}`;
  const importLine = `import { ${exportName} } from '${spec}';`;
  const done = { done: true as const, file: configFile };
  if (!existsSync(configFile)) {
    return {
      text: `import { defineConfig } from 'jobsmith';\n${importLine}\n\nexport default defineConfig({\n  jobs: [${exportName}],\n});\n`,
      result: done,
    };
  }
  const text = readFileSync(configFile, 'utf8');
  if (text.includes(importLine)) return { result: done, regenerating: true };
  const instruction = (why: string) => ({
    result: {
      done: false as const,
      instruction: `${why}, so the job is not registered yet. Register it in ${configFile}: add \`${importLine}\` and put ${exportName} in the jobs: [...] list of defineConfig.`,
    },
  });
  if (usesIdentifier(text, exportName)) {
    return instruction(`${configFile} already uses the name ${exportName}`);
  }
  const list = findJobsList(text);
  if (!list) {
    return instruction(`${configFile} has no single jobs: [...] list outside comments`);
  }
  const empty = text.slice(list.start, list.end).trim() === '';
  let updated = `${text.slice(0, list.start)}${exportName}${empty ? '' : ', '}${text.slice(list.start)}`;
  const insertAt = afterLastImport(updated);
  const newline = insertAt > 0 && updated[insertAt - 1] !== '\n' ? '\n' : '';
  updated = `${updated.slice(0, insertAt)}${newline}${importLine}\n${updated.slice(insertAt)}`;
  return { text: updated, result: done };
}

export function defaultJobsDir(configFile: string, jobsDir?: string): string {
  return resolve(dirname(configFile), jobsDir ?? 'jobs');
}
