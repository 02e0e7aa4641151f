/**
 * Colour on a real terminal: `script` gives the CLI a pseudo-terminal, as a user's shell would.
 * NO_COLOR (no-color.org) turns every colour off, the table borders included; without it the
 * same commands are coloured, which shows the terminal is seen as one.
 */
import { spawn, spawnSync } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CLI_PATH, cliEnv } from './helpers/cli.js';
import { appEnv } from './helpers/env.js';
import { tempDir, type TempDir } from './helpers/services.js';

const hasScript = spawnSync('script', ['--version']).status === 0;
const ESC = '\u001b[';

let dir: TempDir;
beforeEach(() => {
  dir = tempDir('jobsmith-color-');
});
afterEach(() => dir.cleanup());

const quote = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;

/** Runs `run ARGS` on a pseudo-terminal and returns what the terminal showed. */
function inTerminal(args: string[], env: Record<string, string | undefined>) {
  const command = [process.execPath, CLI_PATH, ...args].map(quote).join(' ');
  return new Promise<{ code: number | null; output: string }>((resolve, reject) => {
    const child = spawn('script', ['-qec', command, '/dev/null'], {
      cwd: dir.path,
      // chalk colours a terminal whose TERM says it can, and never under CI=true.
      env: cliEnv(appEnv({ TERM: 'xterm-256color', CI: undefined, ...env })),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`timed out; output so far:\n${output}`));
    }, 30_000);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

describe.skipIf(!hasScript)('colour on a terminal', () => {
  // Each paints differently: help (bold, cyan), an error (red, dim), a table (borders).
  const commands = [['--help'], ['queue:retry'], ['migrate:status']];

  it('is off with NO_COLOR=1, the table borders included', async () => {
    for (const args of commands) {
      const { code, output } = await inTerminal(args, { NO_COLOR: '1', FORCE_COLOR: undefined });
      expect(output.length, args.join(' ')).toBeGreaterThan(0);
      expect([args, code, output.includes(ESC)]).toEqual([args, code, false]);
    }
  });

  it('is on without NO_COLOR (or with NO_COLOR empty), so the terminal is seen as one', async () => {
    for (const args of commands) {
      const { output } = await inTerminal(args, { NO_COLOR: '', FORCE_COLOR: undefined });
      expect([args, output.includes(ESC)]).toEqual([args, true]);
    }
  });
});
