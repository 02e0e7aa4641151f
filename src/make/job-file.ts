import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { JobsmithError, UsageError } from '../errors.js';
import { packageRoot } from '../util/package.js';

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

/** Writes a job file from the template and registers it in the config file. */
export function makeJob(input: MakeJobInput): MakeJobResult {
  if (!/^[A-Za-z][A-Za-z0-9_-]*$/.test(input.name)) {
    throw new UsageError(
      `Job name "${input.name}" must start with a letter and hold only letters, digits, - and _ (e.g. SendDigest).`,
    );
  }
  const parts = words(input.name);
  const exportName = parts.map((w, i) => (i ? w[0]!.toUpperCase() + w.slice(1) : w)).join('');
  const jobName = input.jobName ?? parts.join('.');
  const file = resolve(input.dir, `${parts.join('-')}.ts`);
  if (existsSync(file) && !input.force) {
    throw new JobsmithError(`${file} already exists.`, { hint: 'Pass --force to overwrite it.' });
  }
  const template = readFileSync(join(packageRoot(), 'templates', 'job.ts.tpl'), 'utf8');
  const source = template
    .replaceAll('__EXPORT__', exportName)
    .replaceAll('__NAME__', jobName)
    .replaceAll('__QUEUE__', input.queue)
    .replaceAll('__TRIES__', String(input.tries))
    .replaceAll('__TIMEOUT__', String(input.timeout));
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, source);
  return { file, exportName, jobName, registration: register(input.configFile, file, exportName) };
}

/** Adds the import and the entry in `jobs: [...]`, or says exactly what to add where. */
function register(
  configFile: string,
  jobFile: string,
  exportName: string,
): MakeJobResult['registration'] {
  let spec = relative(dirname(configFile), jobFile).replace(/\.ts$/, '.js');
  if (!spec.startsWith('.')) spec = `./${spec}`;
  const importLine = `import { ${exportName} } from '${spec}';`;
  if (!existsSync(configFile)) {
    writeFileSync(
      configFile,
      `import { defineConfig } from 'jobsmith';\n${importLine}\n\nexport default defineConfig({\n  jobs: [${exportName}],\n});\n`,
    );
    return { done: true, file: configFile };
  }
  const text = readFileSync(configFile, 'utf8');
  const instruction = `Register it in ${configFile}: add \`${importLine}\` and put ${exportName} in the jobs: [...] list of defineConfig.`;
  if (text.includes(importLine)) return { done: true, file: configFile };
  const jobsList = /jobs\s*:\s*\[/.exec(text);
  if (!jobsList) return { done: false, instruction };
  const at = jobsList.index + jobsList[0].length;
  const closing = text.indexOf(']', at);
  const empty = text.slice(at, closing).trim() === '';
  let updated = `${text.slice(0, at)}${exportName}${empty ? '' : ', '}${text.slice(at)}`;
  const lastImport = [...updated.matchAll(/^import .*;$/gm)].pop();
  const insertAt = lastImport ? lastImport.index! + lastImport[0].length + 1 : 0;
  updated = `${updated.slice(0, insertAt)}${importLine}\n${updated.slice(insertAt)}`;
  writeFileSync(configFile, updated);
  return { done: true, file: configFile };
}

export function defaultJobsDir(configFile: string, jobsDir?: string): string {
  return resolve(dirname(configFile), jobsDir ?? 'jobs');
}
