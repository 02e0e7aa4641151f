import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defineCommand } from '../src/cli/app-commands/define.js';
import { runCliInHost } from './helpers/cli-host.js';
import { appEnv } from './helpers/env.js';
import { tempDir, type TempDir } from './helpers/services.js';

/** A config with one job and an app command that dispatches it and echoes what it got. */
const CONFIG = `
import { defineCommand, defineConfig, defineJob, JobsmithError, UsageError } from 'jobsmith';
const hello = defineJob({ name: 'hello', queue: 'greetings', handle: async () => {} });
export default defineConfig({
  jobs: [hello],
  commands: [
    defineCommand({
      name: 'app:greet',
      description: 'Greet someone and queue a hello',
      example: 'run app:greet Ada --loud',
      arguments: [
        { name: 'who', description: 'who to greet' },
        { name: 'more', required: false, variadic: true },
      ],
      options: [
        { flags: '--loud', description: 'shout' },
        { flags: '--older-than <days>', description: 'a value', default: '7' },
      ],
      async handler({ args, options, dispatch, env }) {
        if (args.who === 'nobody') throw new JobsmithError('Nobody to greet.', { hint: 'Give a name.' });
        if (args.who === 'bad') throw new UsageError('who must not be "bad".');
        const { id } = await dispatch(hello, { who: args.who });
        console.log(JSON.stringify({ args, options, id, fromEnv: env.GREETING }));
        return args.who === 'three' ? 3 : undefined;
      },
    }),
  ],
  schedule: [{ name: 'greet-bob', cron: '0 * * * *', command: 'app:greet Bob' }],
});
`;

let dir: TempDir;
beforeEach(() => {
  dir = tempDir('jobsmith-app-commands-');
});
afterEach(() => dir.cleanup());

function writeConfig(source: string): void {
  writeFileSync(path.join(dir.path, 'jobsmith.config.ts'), source);
}

const run = (...args: string[]) =>
  runCliInHost(args, { cwd: dir.path, env: appEnv({ GREETING: 'hi' }) });

describe('app commands (defineCommand in the config)', () => {
  it('run their handler with the arguments, the options and a dispatch that stores jobs', async () => {
    writeConfig(CONFIG);
    const result = await run('app:greet', 'Ada', 'x', 'y', '--loud', '--older-than', '3');
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const echoed = JSON.parse(result.stdout);
    expect(echoed).toMatchObject({
      args: { who: 'Ada', more: ['x', 'y'] },
      options: { loud: true, olderThan: '3' },
      fromEnv: 'hi',
    });
    expect(echoed.options).not.toHaveProperty('config');
    const show = await run('queue:show', echoed.id, '--json');
    expect(show.code).toBe(0);
    expect(JSON.parse(show.stdout)).toMatchObject({
      name: 'hello',
      queue: 'greetings',
      payload: JSON.stringify({ who: 'Ada' }),
    });
  });

  it('take --config after their name, like the built-in commands', async () => {
    writeFileSync(path.join(dir.path, 'app.config.ts'), CONFIG);
    const result = await run('app:greet', 'Ada', '--config', 'app.config.ts');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).args.who).toBe('Ada');
  });

  it('exit with the number the handler returns, 1 for a JobsmithError, 2 for usage errors', async () => {
    writeConfig(CONFIG);
    expect((await run('app:greet', 'three')).code).toBe(3);
    const failed = await run('app:greet', 'nobody');
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('Nobody to greet.');
    expect(failed.stderr).toContain('Give a name.');
    expect(failed.stderr).not.toMatch(/\n\s+at /);
    const usage = await run('app:greet', 'bad');
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('who must not be "bad"');
    const missing = await run('app:greet');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("missing required argument 'who'");
  });

  it('are listed by run --help under App commands and have their own --help', async () => {
    writeConfig(CONFIG);
    const help = await run('--help');
    expect(help.code).toBe(0);
    const lines = help.stdout.split('\n');
    const at = lines.indexOf('App commands (from the config)');
    expect(at).toBeGreaterThan(0);
    expect(lines[at + 1]).toMatch(/^\s+app:greet\s+Greet someone and queue a hello$/);
    expect(lines[at + 2]).toContain('$ run app:greet Ada --loud');
    const own = await run('app:greet', '--help');
    expect(own.code).toBe(0);
    expect(own.stdout).toContain('Usage: run app:greet [options] <who> [more...]');
    expect(own.stdout).toContain('--older-than <days>');
  });

  it('are suggested for a near miss, and schedulable', async () => {
    writeConfig(CONFIG);
    const typo = await run('app:gret');
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain('Did you mean "app:greet"?');
    const schedule = await run('schedule:list', '--json');
    expect(schedule.code).toBe(0);
    expect(schedule.stdout).toContain('app:greet Bob');
  });

  it('leave an unknown name a plain usage error in a folder without a config', async () => {
    const result = await run('app:greet');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('Unknown command "app:greet"');
    const help = await run('--help');
    expect(help.stdout).not.toContain('App commands');
  });

  it('refuse a config whose commands clash with a built-in or with each other', async () => {
    const command = (name: string) =>
      `defineCommand({ name: '${name}', description: 'x', handler: () => {} })`;
    const config = (list: string) =>
      `import { defineCommand, defineConfig } from 'jobsmith';\nexport default defineConfig({ commands: [${list}] });\n`;
    writeConfig(config(command('queue:work')));
    const clash = await run('app:anything');
    expect(clash.code).toBe(1);
    expect(clash.stderr).toContain(
      'the app command "queue:work" has the name of a built-in command',
    );
    writeConfig(config(`${command('app:a')}, ${command('app:a')}`));
    const twice = await run('app:a');
    expect(twice.stderr).toContain('two commands are named "app:a"');
    writeConfig(config(`{ name: 'app:b', description: 'x', handler: () => {} }`));
    const plain = await run('app:b');
    expect(plain.stderr).toContain('commands[0] is not a command made with defineCommand()');
    const help = await run('--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('App commands: not listed, the config failed to load');
  });

  it('refuse malformed definitions when they are made', () => {
    const handler = () => undefined;
    expect(() => defineCommand({ name: 'Bad Name', description: 'x', handler })).toThrow(
      /lowercase letters, digits and -/,
    );
    expect(() => defineCommand({ name: 'app:x', description: ' ', handler })).toThrow(
      /needs a one-line description/,
    );
    expect(() =>
      defineCommand({
        name: 'app:x',
        description: 'x',
        handler,
        arguments: [{ name: 'a', variadic: true }, { name: 'b' }],
      }),
    ).toThrow(/only the last argument can be variadic/);
    expect(() =>
      defineCommand({
        name: 'app:x',
        description: 'x',
        handler,
        options: [{ flags: '--config <p>' }],
      }),
    ).toThrow(/every command has already/);
  });
});
