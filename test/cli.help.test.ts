import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { COMMANDS, GROUPS, GROUP_TITLES } from '../src/cli/manifest.js';
import { runCliInHost } from './helpers/cli-host.js';
import { REPO_ROOT } from './helpers/cli.js';
import { appEnv } from './helpers/env.js';
import { tempDir, type TempDir } from './helpers/services.js';

const version = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')).version;

let dir: TempDir;
beforeEach(() => {
  dir = tempDir('jobsmith-help-');
});
afterEach(() => dir.cleanup());

const run = (...args: string[]) => runCliInHost(args, { cwd: dir.path, env: appEnv() });

/** Lines of `text` from `title` up to the next blank line. */
function section(text: string, title: string): string[] {
  const lines = text.split('\n');
  const start = lines.indexOf(title);
  expect(start, `no "${title}" line in:\n${text}`).toBeGreaterThanOrEqual(0);
  const end = lines.indexOf('', start);
  return lines.slice(start + 1, end);
}

/** The two lines `run --help` shows for a command: name + summary, then its example. */
function entryLines(block: string[], name: string): string[] {
  const at = block.findIndex((l) => l.trimStart().startsWith(`${name} `));
  expect(at, `${name} is not listed in:\n${block.join('\n')}`).toBeGreaterThanOrEqual(0);
  return block.slice(at, at + 2).map((l) => l.trim().replace(/\s{2,}/g, '  '));
}

describe('run --help', () => {
  it('lists every command under its group, with its summary and an example', async () => {
    const result = await run('--help');
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
    expect(result.stdout.split('\n').slice(0, 3)).toEqual([
      `jobsmith ${version} — background jobs for TypeScript`,
      '',
      'Usage: run [--config PATH] [--verbose] <command> [options]',
    ]);
    for (const group of GROUPS) {
      const commands = COMMANDS.filter((c) => c.group === group);
      if (commands.length === 0) continue;
      const block = section(result.stdout, GROUP_TITLES[group]);
      expect(block).toHaveLength(commands.length * 2);
      for (const c of commands) {
        expect(entryLines(block, c.name)).toEqual([`${c.name}  ${c.summary}`, `$ ${c.example}`]);
      }
    }
    expect(result.stdout).toMatch(
      /^Database\n {2}migrate +Apply pending database migrations\n +\$ run migrate\n/m,
    );
    expect(
      result.stdout.endsWith('Exit codes: 0 success, 1 failure at run time, 2 usage error.\n'),
    ).toBe(true);
  });

  it('prints the same list for `run`, `run --help`, `run -h` and `run help`', async () => {
    const [bare, help, h, helpWord] = await Promise.all([
      run(),
      run('--help'),
      run('-h'),
      run('help'),
    ]);
    for (const result of [bare, h, helpWord]) {
      expect(result.code).toBe(0);
      expect(result.stdout).toBe(help.stdout);
    }
  });

  it('touches neither the database nor the log folder', async () => {
    await run('--help');
    expect(readdirSync(dir.path)).toEqual([]);
  });
});

describe('run help CMD and run CMD --help', () => {
  it('show the command, its flags, its example and the commands of its group', async () => {
    const [helpWord, flag] = await Promise.all([run('help', 'migrate'), run('migrate', '--help')]);
    for (const result of [helpWord, flag]) {
      expect(result.code).toBe(0);
      expect(result.stderr).toBe('');
      expect(
        result.stdout.startsWith(
          'Usage: run migrate [options]\n\nApply pending database migrations\n',
        ),
      ).toBe(true);
      expect(result.stdout).toContain('\nExample:\n  $ run migrate\n');
      const block = section(result.stdout, 'Commands in the same group (Database):');
      for (const c of COMMANDS.filter((c) => c.group === 'db')) {
        expect(entryLines(block, c.name)).toEqual([`${c.name}  ${c.summary}`, `$ ${c.example}`]);
      }
      expect(result.stdout.endsWith('Run `run --help` to list every command.\n')).toBe(true);
    }
    expect(flag.stdout).toBe(helpWord.stdout);
  });

  it('queue:work shows its durations as durations, its signals and its exit codes', async () => {
    const result = await run('queue:work', '--help');
    expect(result.code).toBe(0);
    // Commander wraps long lines: compare with runs of white space as one space.
    const text = result.stdout.replace(/\s+/g, ' ');
    expect(text).toContain(
      '--sleep <duration> longest idle wait between looks at the queues (default: 1s)',
    );
    expect(text).toContain(
      '--grace <duration> on SIGTERM, SIGINT or SIGQUIT, time for running jobs to finish (default: 30s)',
    );
    expect(text).toContain(
      '--rest <duration> pause after each claim (one job, or a batch at --concurrency above 1) (default: 0)',
    );
    expect(text).toContain(
      '--storage-timeout <duration> how long the storage may keep failing (a restart, a network cut) before the worker exits 14 (default: 60s)',
    );
    expect(text).not.toMatch(/\(default: \d{4,}\)/);
    expect(text).toContain(
      'The same signals again more than 1s after the first release running jobs at once; a repeat within 1s is taken as the same stop.',
    );
    expect(text).toContain(
      "Exit codes: 0 stopped (signal, --stop-when-empty, --once, --max-jobs, --max-time, queue:restart); 12 memory past --memory; 13 a job ignored its timeout's abort; 14 the storage failed (at once when waiting cannot fix it, else after --storage-timeout); 15 a job's code threw outside its promise.",
    );
  });

  it('shows each flag’s default once, a duration as a duration (every command)', async () => {
    for (const entry of COMMANDS) {
      const command = (await entry.load()).default();
      const text = command.helpInformation().replace(/\s+/g, ' ');
      expect(text, entry.name).not.toMatch(/\(default: [^)]*\) \(default:/);
      for (const option of command.options) {
        if (!option.flags.includes('<duration>') || option.defaultValue === undefined) continue;
        // A duration's default in ms would show as "(default: 1000)": it needs its own words.
        expect(option.defaultValueDescription, `${entry.name} ${option.flags}`).toBeDefined();
      }
    }
    const help = async (name: string) =>
      (await COMMANDS.find((c) => c.name === name)!.load()).default().helpInformation();
    expect((await help('gpt:ask')).replace(/\s+/g, ' ')).toContain(
      '--wait <duration> how long to wait for a worker to answer (default: 2m)',
    );
    expect((await help('scheduled:dispatch')).replace(/\s+/g, ' ')).toContain(
      'stored meanwhile waits at most this) (default: 1s)',
    );
  });

  it('lists the flags of make:job with what each is for', async () => {
    const result = await run('help', 'make:job');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^ {2}--tries <n> +attempts in all \(1 to 1000000\)$/m);
    expect(result.stdout).toMatch(/^ {2}--force +overwrite an existing file$/m);
    expect(result.stdout).toContain('Commands in the same group (Generators):');
  });
});

describe('run --version', () => {
  it("prints package.json's version and nothing else", async () => {
    for (const flag of ['--version', '-V']) {
      const result = await run(flag);
      expect(result.code).toBe(0);
      expect(result.stdout).toBe(`${version}\n`);
      expect(result.stderr).toBe('');
    }
  });
});

describe('unknown commands and flags', () => {
  it('suggests the nearest command and exits 2', async () => {
    const result = await run('migrat');
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      'Error: Unknown command "migrat". Did you mean "migrate"?\nRun `run --help` to list the commands.\n',
    );
  });

  it('suggests a command with a colon in its name', async () => {
    const result = await run('make:jb', 'Foo');
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      'Error: Unknown command "make:jb". Did you mean "make:job"?\nRun `run --help` to list the commands.\n',
    );
  });

  it('suggests nothing when no command is near', async () => {
    const result = await run('frobnicate');
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      'Error: Unknown command "frobnicate".\nRun `run --help` to list the commands.\n',
    );
  });

  it('treats `run help` of an unknown command as a usage error', async () => {
    const result = await run('help', 'migrat');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('Error: Unknown command "migrat". Did you mean "migrate"?');
  });

  it('names an unknown flag of a command and exits 2', async () => {
    const result = await run('migrate', '--bogus');
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      "Error: unknown option '--bogus'\nRun the command with --help to see what it accepts.\n",
    );
    expect(existsSync(path.join(dir.path, 'storage'))).toBe(false);
  });

  it('names an unknown flag given before any command and exits 2', async () => {
    const result = await run('--bogus');
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      'Error: Unknown option "--bogus".\nRun `run --help` to list the commands.\n',
    );
  });
});

describe('README.md', () => {
  it('has a row with an example for every command `run --help` lists', () => {
    const readme = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
    for (const c of COMMANDS) {
      // Prettier pads table cells with spaces.
      const row = readme.split('\n').find((l) => new RegExp(`^\\| \`${c.name}\` +\\|`).test(l));
      expect(row, `README.md has no row for ${c.name}`).toBeDefined();
      expect(row).toMatch(/\| `run [^`]+` +\|$/);
    }
  });
});

describe('help into a pipe that closes early', () => {
  it('exits 0 without a stack trace when the reader stops after the first line (run help X | head -1)', async () => {
    const { spawn } = await import('node:child_process');
    const { CLI_PATH } = await import('./helpers/cli.js');
    const child = spawn(process.execPath, [CLI_PATH, 'help', 'queue:work'], {
      cwd: dir.path,
      env: { ...process.env, ...appEnv(), NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    // Close our end as soon as the first chunk arrives, like `head -1` does.
    child.stdout.once('data', () => child.stdout.destroy());
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
  });
});
