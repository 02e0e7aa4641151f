import { existsSync, readdirSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCliInHost } from './helpers/cli-host.js';
import { appEnv } from './helpers/env.js';
import { tempDir, type TempDir } from './helpers/services.js';

let dir: TempDir;
let cwd: string;
beforeEach(() => {
  dir = tempDir('jobsmith-make-job-');
  cwd = realpathSync(dir.path);
});
afterEach(() => dir.cleanup());

// The CLI host gives each command a closed stdin and captured stdout: no terminal, so make:job
// must never prompt.
const run = (...args: string[]) => runCliInHost(args, { cwd, env: appEnv(), timeoutMs: 15_000 });
const jobFile = () => path.join(cwd, 'jobs', 'send-digest.ts');
const configFile = () => path.join(cwd, 'jobsmith.config.ts');

describe('run make:job without a terminal', () => {
  it('writes the job file, creates jobsmith.config.ts with it, and never prompts', async () => {
    const result = await run('make:job', 'SendDigest');
    expect(result.timedOut).toBe(false);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(
      `Created  ${jobFile()}  (job "send.digest")\n` +
        `Registered  sendDigest in ${configFile()}\n`,
    );
    const source = readFileSync(jobFile(), 'utf8');
    expect(source).toContain(
      "export const sendDigest = defineJob({\n  name: 'send.digest',\n  queue: 'default',\n",
    );
    expect(source).toContain('  tries: 3,\n');
    expect(source).toContain('  timeout: 60,\n');
    expect(readFileSync(configFile(), 'utf8')).toBe(
      "import { defineConfig } from 'jobsmith';\n" +
        "import { sendDigest } from './jobs/send-digest.js';\n\n" +
        'export default defineConfig({\n  jobs: [sendDigest],\n});\n',
    );
  });

  it('takes the queue, tries, timeout and stored name from flags', async () => {
    const result = await run(
      'make:job',
      'SendDigest',
      '--queue',
      'mail',
      '--tries',
      '5',
      '--timeout',
      '90',
      '--job-name',
      'digest.send',
    );
    expect(result.code).toBe(0);
    const source = readFileSync(jobFile(), 'utf8');
    expect(source).toContain("  name: 'digest.send',\n  queue: 'mail',\n");
    expect(source).toContain('  tries: 5,\n');
    expect(source).toContain('  timeout: 90,\n');
  });

  it('adds the job to an existing config, keeping the jobs already there', async () => {
    expect((await run('make:job', 'SendDigest')).code).toBe(0);
    const result = await run('make:job', 'purge-tokens');
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(
      `Created  ${path.join(cwd, 'jobs', 'purge-tokens.ts')}  (job "purge.tokens")\n` +
        `Registered  purgeTokens in ${configFile()}\n`,
    );
    expect(readFileSync(configFile(), 'utf8')).toBe(
      "import { defineConfig } from 'jobsmith';\n" +
        "import { sendDigest } from './jobs/send-digest.js';\n" +
        "import { purgeTokens } from './jobs/purge-tokens.js';\n\n" +
        'export default defineConfig({\n  jobs: [purgeTokens, sendDigest],\n});\n',
    );
  });

  it('says exactly where to register the job when the config has no jobs list', async () => {
    writeFileSync(configFile(), 'export default { queues: {} };\n');
    const result = await run('make:job', 'SendDigest');
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(
      `Created  ${jobFile()}  (job "send.digest")\n` +
        `${configFile()} has no single jobs: [...] list outside comments, so the job is not registered yet. ` +
        `Register it in ${configFile()}: add \`import { sendDigest } from './jobs/send-digest.js';\` ` +
        'and put sendDigest in the jobs: [...] list of defineConfig.\n',
    );
    expect(readFileSync(configFile(), 'utf8')).toBe('export default { queues: {} };\n');
  });

  it('writes a job file and config that load: `run about --json` lists the job', async () => {
    await run('make:job', 'SendDigest', '--queue', 'mail', '--tries', '5');
    const result = await run('about', '--json');
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const about = JSON.parse(result.stdout);
    expect(about.configFile).toBe(configFile());
    expect(about.jobs).toEqual([{ name: 'send.digest', queue: 'mail', tries: 5, timeout: 60 }]);
  });

  it('refuses to overwrite an existing job file without --force; exit 1', async () => {
    await run('make:job', 'SendDigest');
    writeFileSync(jobFile(), '// edited by hand\n');
    const result = await run('make:job', 'SendDigest');
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      `Error: ${jobFile()} already exists.\nPass --force to overwrite it.\n`,
    );
    expect(readFileSync(jobFile(), 'utf8')).toBe('// edited by hand\n');
  });

  it('overwrites with --force, without registering the job twice', async () => {
    await run('make:job', 'SendDigest');
    writeFileSync(jobFile(), '// edited by hand\n');
    const result = await run('make:job', 'SendDigest', '--force', '--tries', '7');
    expect(result.code).toBe(0);
    expect(readFileSync(jobFile(), 'utf8')).toContain('  tries: 7,\n');
    expect(readFileSync(configFile(), 'utf8').match(/sendDigest/g)).toHaveLength(2);
  });

  it('rejects --tries 0, naming the flag; exit 2, nothing written', async () => {
    const result = await run('make:job', 'SendDigest', '--tries', '0');
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      'Error: --tries must be a whole number from 1 to 1000000, got "0".\n',
    );
    expect(existsSync(jobFile())).toBe(false);
    expect(existsSync(configFile())).toBe(false);
  });

  it('rejects a --timeout that is not a whole number; exit 2', async () => {
    const result = await run('make:job', 'SendDigest', '--timeout', '1.5');
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      'Error: --timeout must be a whole number from 1 to 2147483, got "1.5".\n',
    );
  });

  it('refuses a queue name no worker could serve; exit 2, nothing written', async () => {
    const result = await run('make:job', 'Foo', '--queue', 'bad queue');
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      'Error: --queue must be a queue name: letters, digits and . _ - (at most 190 characters); got "bad queue".\n',
    );
    expect(readdirSync(cwd)).toEqual([]);
  });

  it('refuses a job name already in use before writing anything; exit 2', async () => {
    writeFileSync(
      configFile(),
      "import { defineConfig, defineJob } from 'jobsmith';\n" +
        "export const hello = defineJob({ name: 'hello.say', async handle() {} });\n\n" +
        'export default defineConfig({\n  jobs: [hello],\n});\n',
    );
    const before = readFileSync(configFile(), 'utf8');
    for (const args of [
      ['make:job', 'Bar', '--job-name', 'hello.say'],
      ['make:job', 'HelloSay'],
      ['make:job', 'Pinger', '--job-name', 'jobsmith.ping'],
    ]) {
      const result = await run(...args);
      expect(result.code).toBe(2);
      expect(result.stdout).toBe('');
      const name = args.includes('--job-name') ? args.at(-1)! : 'hello.say';
      const where = name === 'jobsmith.ping' ? ' (a built-in job)' : ` in ${configFile()}`;
      expect(result.stderr).toBe(
        `Error: A job named "${name}" is already registered${where}; nothing was written.\n` +
          'Give the new job another stored name with --job-name, e.g. --job-name mail.digest.\n',
      );
    }
    expect(readFileSync(configFile(), 'utf8')).toBe(before);
    expect(existsSync(path.join(cwd, 'jobs'))).toBe(false);
    // And every command still loads the config.
    expect((await run('about', '--json')).code).toBe(0);
  });

  it('registers in the real jobs: [ list, never in one commented out', async () => {
    writeFileSync(
      configFile(),
      "import { defineConfig, defineJob } from 'jobsmith';\n" +
        "const old = defineJob({ name: 'old.job', async handle() {} });\n" +
        "const note = 'jobs: [in a string]';\n" +
        'export default defineConfig({\n' +
        '  // jobs: [old],\n' +
        '  /* jobs: [old] */\n' +
        '  jobs: [],\n' +
        '});\n' +
        'void note;\n',
    );
    const result = await run('make:job', 'SendDigest');
    expect(result.stderr).toBe('');
    expect(result.stdout).toBe(
      `Created  ${jobFile()}  (job "send.digest")\nRegistered  sendDigest in ${configFile()}\n`,
    );
    expect(readFileSync(configFile(), 'utf8')).toBe(
      "import { defineConfig, defineJob } from 'jobsmith';\n" +
        "import { sendDigest } from './jobs/send-digest.js';\n" +
        "const old = defineJob({ name: 'old.job', async handle() {} });\n" +
        "const note = 'jobs: [in a string]';\n" +
        'export default defineConfig({\n' +
        '  // jobs: [old],\n' +
        '  /* jobs: [old] */\n' +
        '  jobs: [sendDigest],\n' +
        '});\n' +
        'void note;\n',
    );
    const about = JSON.parse((await run('about', '--json')).stdout);
    expect(about.jobs.map((j: { name: string }) => j.name)).toEqual(['send.digest']);
  });

  it('gives the exact instruction, not "Registered", when the only jobs list is commented out', async () => {
    const text =
      "import { defineConfig } from 'jobsmith';\n" +
      'export default defineConfig({\n  // jobs: [old],\n});\n';
    writeFileSync(configFile(), text);
    const result = await run('make:job', 'SendDigest');
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(
      `Created  ${jobFile()}  (job "send.digest")\n` +
        `${configFile()} has no single jobs: [...] list outside comments, so the job is not registered yet. ` +
        `Register it in ${configFile()}: add \`import { sendDigest } from './jobs/send-digest.js';\` ` +
        'and put sendDigest in the jobs: [...] list of defineConfig.\n',
    );
    expect(readFileSync(configFile(), 'utf8')).toBe(text);
  });

  it('registers in the config file every command loads, whatever its extension', async () => {
    const mjs = path.join(cwd, 'jobsmith.config.mjs');
    writeFileSync(
      mjs,
      "import { defineConfig } from 'jobsmith';\nexport default defineConfig({ jobs: [] });\n",
    );
    const result = await run('make:job', 'SendDigest');
    expect(result.stdout).toContain(`Registered  sendDigest in ${mjs}\n`);
    expect(existsSync(configFile())).toBe(false);
    expect(readFileSync(mjs, 'utf8')).toContain('jobs: [sendDigest]');
    const about = JSON.parse((await run('about', '--json')).stdout);
    expect(about.jobs.map((j: { name: string }) => j.name)).toEqual(['send.digest']);
  });

  it('rejects a name that is not an identifier; exit 2', async () => {
    const result = await run('make:job', '1st-job');
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      'Error: Job name "1st-job" must start with a letter and hold only letters, digits, - and _ (e.g. SendDigest).\n',
    );
  });

  it('asks for the name when it is missing; exit 2', async () => {
    const result = await run('make:job');
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      "Error: missing required argument 'name'\nRun the command with --help to see what it accepts.\n",
    );
  });
});
