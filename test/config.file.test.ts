import { mkdirSync, readdirSync, realpathSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCliInHost } from './helpers/cli-host.js';
import { appEnv } from './helpers/env.js';
import { tempDir, type TempDir } from './helpers/services.js';

let dir: TempDir;
let cwd: string;
beforeEach(() => {
  dir = tempDir('jobsmith-config-');
  cwd = realpathSync(dir.path);
});
afterEach(() => dir.cleanup());

const run = (args: string[], env: Record<string, string> = {}) =>
  runCliInHost(args, { cwd, env: appEnv(env) });

function write(name: string, text: string): string {
  const file = path.join(cwd, name);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
  return file;
}

/** A TypeScript config (type annotations included) that defines one job. */
const tsConfig = (jobName: string) => `
import { defineConfig, defineJob } from 'jobsmith';
import { z } from 'zod';

const queue: string = 'mail';

export const job = defineJob({
  name: '${jobName}',
  queue,
  schema: z.object({ userId: z.number() }),
  tries: 5,
  timeout: 20,
  async handle(payload: { userId: number }) {
    void payload;
  },
});

export default defineConfig({ jobs: [job] });
`;

async function about(args: string[] = [], env: Record<string, string> = {}) {
  const result = await run(['about', '--json', ...args], env);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as { configFile: string | null; jobs: unknown[] };
}

describe('jobsmith.config.ts', () => {
  it('loads from the working directory without a build step', async () => {
    const file = write('jobsmith.config.ts', tsConfig('digest.send'));
    const info = await about();
    expect(info.configFile).toBe(file);
    expect(info.jobs).toEqual([{ name: 'digest.send', queue: 'mail', tries: 5, timeout: 20 }]);
  });

  it('is optional', async () => {
    const info = await about();
    expect(info.configFile).toBeNull();
    expect(info.jobs).toEqual([]);
  });

  it('may be plain JavaScript (.mjs)', async () => {
    const file = write(
      'jobsmith.config.mjs',
      "import { defineConfig, defineJob } from 'jobsmith';\n" +
        "export default defineConfig({ jobs: [defineJob({ name: 'plain.js', async handle() {} })] });\n",
    );
    const info = await about();
    expect(info.configFile).toBe(file);
    expect(info.jobs).toEqual([{ name: 'plain.js', queue: 'default', tries: 3, timeout: 60 }]);
  });

  it('takes --config and --verbose before the command name too', async () => {
    const file = write('config/app.config.ts', tsConfig('before.name'));
    const result = await run(['--config', 'config/app.config.ts', '-v', 'about', '--json']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).configFile).toBe(file);
    const equals = await run(['--config=config/app.config.ts', 'about', '--json']);
    expect(JSON.parse(equals.stdout).configFile).toBe(file);
  });

  it('is found through JOBSMITH_CONFIG, and --config wins over it', async () => {
    const fromEnv = write('config/env.config.ts', tsConfig('from.env'));
    const fromFlag = write('config/flag.config.ts', tsConfig('from.flag'));
    expect((await about([], { JOBSMITH_CONFIG: 'config/env.config.ts' })).configFile).toBe(fromEnv);
    const info = await about(['--config', 'config/flag.config.ts'], {
      JOBSMITH_CONFIG: 'config/env.config.ts',
    });
    expect(info.configFile).toBe(fromFlag);
  });
});

describe('a config that cannot be used', () => {
  it('fails every command given a --config that does not exist, before it does anything; exit 2', async () => {
    const commands = [
      ['about'],
      ['queue:size'],
      ['queue:failed'],
      ['migrate'],
      ['queue:clear', '--force'],
      ['doctor'],
    ];
    const results = await Promise.all(
      commands.map((args) => run([...args, '--config', 'nope.config.ts'])),
    );
    for (const [i, result] of results.entries()) {
      expect([commands[i], result.code]).toEqual([commands[i], 2]);
      expect(result.stdout).toBe('');
      expect(result.stderr).toBe(
        `Error: --config nope.config.ts: no such file (${path.join(cwd, 'nope.config.ts')}).\n` +
          'Give the path of jobsmith.config.ts, or leave --config out to use the one in this folder.\n',
      );
    }
    // Nothing was created: no database, no log folder.
    expect(readdirSync(cwd)).toEqual([]);
  });

  it('fails every command when JOBSMITH_CONFIG names a file that does not exist; exit 1', async () => {
    for (const args of [['queue:size'], ['migrate']]) {
      const result = await run(args, { JOBSMITH_CONFIG: 'gone.config.ts' });
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(
        `Error: Config file not found: ${path.join(cwd, 'gone.config.ts')}\n` +
          'Check --config or JOBSMITH_CONFIG, or run from the folder that holds jobsmith.config.ts.\n',
      );
    }
    expect(readdirSync(cwd)).toEqual([]);
  });

  it('refuses a config file without a default export, naming the file and the fix', async () => {
    const file = write(
      'jobsmith.config.ts',
      "import { defineConfig, defineJob } from 'jobsmith';\n" +
        "export const job = defineJob({ name: 'lost.job', async handle() {} });\n" +
        'export const config = defineConfig({ jobs: [job] });\n',
    );
    const result = await run(['about']);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `Error: ${file} has no default export, so jobsmith would find no jobs and no schedule in it.\n` +
        'Export the config as the default export: export default defineConfig({ jobs: [...] }).\n',
    );
  });

  it('refuses an unknown field (a typo would be ignored)', async () => {
    const file = write('jobsmith.config.ts', 'export default { job: [] };\n');
    const result = await run(['about']);
    expect(result.code).toBe(1);
    expect(result.stderr.split('\n')[0]).toBe(
      `Error: Invalid config in ${file}: unknown field "job"; the fields are jobs, queues, workerQueues, rateLimits, jobsDir, schedule, scheduleTimezone, commands, telegram, channels, tokens, gpt, mail, alerts.`,
    );
  });

  it('refuses a job without a handle when the config loads, not when it runs', async () => {
    write(
      'jobsmith.config.ts',
      "import { defineConfig, defineJob } from 'jobsmith';\n" +
        "export default defineConfig({ jobs: [defineJob({ name: 'no.handle' } as never)] });\n",
    );
    const result = await run(['about']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      ': Job no.handle: handle must be a function: defineJob({ ..., async handle(payload, ctx) {...} }).\n',
    );
  });

  it('refuses a job whose timeout no timer can wait (30 days)', async () => {
    write(
      'jobsmith.config.ts',
      "import { defineConfig, defineJob } from 'jobsmith';\n" +
        "export default defineConfig({ jobs: [defineJob({ name: 'slow.job', timeout: 30 * 86400, async handle() {} })] });\n",
    );
    const result = await run(['about']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      ': Job slow.job: timeout must be a positive number of seconds, at most 2147483647ms (about 24.8 days), the longest a timer can wait; got 2592000.\n',
    );
  });

  it('refuses a queue name in queues: {...} that no worker could serve', async () => {
    const file = write('jobsmith.config.ts', "export default { queues: { 'bad queue': {} } };\n");
    const result = await run(['about']);
    expect(result.code).toBe(1);
    expect(result.stderr.split('\n')[0]).toBe(
      `Error: Invalid config in ${file}: \`queues\` key "bad queue" is not a queue name; use letters, digits and . _ - (at most 190 characters).`,
    );
  });

  it('names the file and the problem when it does not load, without a stack trace', async () => {
    const file = write('jobsmith.config.ts', "throw new Error('kaboom');\n");
    const result = await run(['about']);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `Error: Cannot load ${file}: kaboom\n` +
        'Fix the error in the config file (run with --verbose for the stack).\n',
    );
  });

  it('names the job entry that is not a defineJob() result', async () => {
    const file = write(
      'jobsmith.config.ts',
      "export default { jobs: [{ name: 'raw', handle() {} }] };\n",
    );
    const result = await run(['about']);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `Error: Invalid config in ${file}: jobs[0] is not a job made with defineJob().\n` +
        'Make every entry of `jobs` with defineJob({ name, handle }) and list that value.\n',
    );
  });

  it('names a job name used twice', async () => {
    const file = write(
      'jobsmith.config.ts',
      "import { defineConfig, defineJob } from 'jobsmith';\n" +
        "const a = defineJob({ name: 'same', async handle() {} });\n" +
        "const b = defineJob({ name: 'same', async handle() {} });\n" +
        'export default defineConfig({ jobs: [a, b] });\n',
    );
    const result = await run(['about']);
    expect(result.code).toBe(1);
    expect(result.stderr.split('\n')[0]).toBe(
      `Error: Invalid config in ${file}: two jobs are named "same"; job names must be unique.`,
    );
  });

  it('reports a job with a bad option, naming the job', async () => {
    write(
      'jobsmith.config.ts',
      "import { defineConfig, defineJob } from 'jobsmith';\n" +
        "export default defineConfig({ jobs: [defineJob({ name: 'x.y', tries: 0, async handle() {} })] });\n",
    );
    const result = await run(['about']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      ': Job x.y: tries must be a whole number from 1 to 1000000, got 0.\n',
    );
  });
});
