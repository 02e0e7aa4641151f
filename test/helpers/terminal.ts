/**
 * Runs the CLI on a pseudo-terminal, as a user at a shell does: `script(1)` gives it a terminal
 * for stdout and stderr, so what is printed only to a terminal (pino's readable log copy,
 * tables) shows. `terminalAvailable` is false where util-linux's script is missing.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { CLI_PATH, cliEnv } from './cli.js';

export const terminalAvailable = existsSync('/usr/bin/script');

/** Runs `run ...args` in `cwd` under script(1); output has its carriage returns removed. */
export function runOnTerminal(
  args: string[],
  opts: { cwd: string; env: Record<string, string | undefined>; timeoutMs: number },
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const command = ['node', CLI_PATH, ...args].map((a) => `'${a}'`).join(' ');
    const child = spawn('script', ['-qec', command, '/dev/null'], {
      cwd: opts.cwd,
      env: cliEnv(opts.env),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output: output.replace(/\r/g, '') });
    });
  });
}
