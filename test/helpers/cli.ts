/**
 * Helpers to run the real CLI (`node bin/run ...`) as a child process.
 *
 * - No shell: arguments are passed verbatim.
 * - Environment: process.env, plus NO_COLOR=1 and without FORCE_COLOR, then opts.env
 *   on top (a value of `undefined` removes a variable).
 * - stdin is always closed (after writing `input`, if any) so a prompt can never
 *   hang a test.
 * - Every child is killed after `timeoutMs`; leftovers are killed when the worker exits.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CLI_PATH = fileURLToPath(new URL('../../bin/run', import.meta.url));

const DEFAULT_TIMEOUT_MS = 20_000;
const KILL_GRACE_MS = 2_000;

export interface CliOptions {
  /** Working directory of the CLI. Defaults to the repository root; prefer a tempDir(). */
  cwd?: string;
  /** Extra environment variables; `undefined` removes the variable. */
  env?: Record<string, string | undefined>;
  /** Written to stdin, which is then closed. */
  input?: string;
  /** Kill the child (SIGTERM, then SIGKILL) after this long. Default 20000. */
  timeoutMs?: number;
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** True when the helper killed the child because timeoutMs elapsed. */
  timedOut: boolean;
}

export function cliEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const merged: Record<string, string | undefined> = {
    ...process.env,
    NO_COLOR: '1',
    FORCE_COLOR: undefined,
    ...extra,
  };
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(merged)) {
    if (value !== undefined) env[key] = value;
  }
  return env;
}

const liveChildren = new Set<ChildProcess>();
let exitHookInstalled = false;

function track(child: ChildProcess): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const c of liveChildren) c.kill('SIGKILL');
    });
  }
  liveChildren.add(child);
  child.once('exit', () => liveChildren.delete(child));
}

export interface CliProcess {
  child: ChildProcess;
  /** stdout received so far. */
  readonly stdout: string;
  /** stderr received so far. */
  readonly stderr: string;
  /** stdout + stderr received so far, in arrival order. */
  readonly output: string;
  /** Resolves once the child has exited and its output streams are closed. */
  readonly exited: Promise<CliResult>;
  /** See {@link waitForOutput}. */
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Sends `signal` (default SIGTERM), SIGKILL after `graceMs`, and waits for exit. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<CliResult>;
}

interface SpawnCliOptions extends CliOptions {
  /** Keep stdin open (after writing `input`) so the test can write to it. Default false. */
  keepStdinOpen?: boolean;
}

const processes = new WeakMap<ChildProcess, CliProcess>();

/** Starts the CLI and returns immediately; use for long-running commands (workers). */
export function spawnCli(args: string[], opts: SpawnCliOptions = {}): CliProcess {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const child = spawn(process.execPath, [CLI_PATH, ...args], {
    cwd: opts.cwd ?? REPO_ROOT,
    env: cliEnv(opts.env),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  track(child);

  let stdout = '';
  let stderr = '';
  let output = '';
  let timedOut = false;
  child.stdout?.setEncoding('utf8');
  child.stderr?.setEncoding('utf8');
  child.stdout?.on('data', (chunk: string) => {
    stdout += chunk;
    output += chunk;
  });
  child.stderr?.on('data', (chunk: string) => {
    stderr += chunk;
    output += chunk;
  });

  // The child may exit before reading stdin; EPIPE there is not a test failure.
  child.stdin?.on('error', () => {});
  if (opts.input !== undefined) child.stdin?.write(opts.input);
  if (!opts.keepStdinOpen) child.stdin?.end();

  let killTimer: NodeJS.Timeout | undefined;
  const kill = (signal: NodeJS.Signals, graceMs: number) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill(signal);
    killTimer ??= setTimeout(() => child.kill('SIGKILL'), graceMs);
    killTimer.unref();
  };
  const deadline = setTimeout(() => {
    timedOut = true;
    kill('SIGTERM', KILL_GRACE_MS);
  }, timeoutMs);
  deadline.unref();

  const exited = new Promise<CliResult>((resolve) => {
    let spawnError: Error | undefined;
    child.once('error', (err) => {
      spawnError = err;
    });
    // 'close' waits for the output pipes; a grandchild that inherited them could keep
    // them open forever after the CLI itself exited, so cut them off shortly after exit.
    child.once('exit', () => {
      setTimeout(() => {
        child.stdout?.destroy();
        child.stderr?.destroy();
      }, KILL_GRACE_MS).unref();
    });
    child.once('close', (code, signal) => {
      clearTimeout(deadline);
      if (killTimer) clearTimeout(killTimer);
      if (spawnError) stderr += `\n[spawnCli] ${spawnError.message}\n`;
      resolve({ code, signal, stdout, stderr, timedOut });
    });
  });

  const proc: CliProcess = {
    child,
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    get output() {
      return output;
    },
    exited,
    waitForOutput: (pattern, ms) => waitForOutput(proc, pattern, ms),
    stop(signal = 'SIGTERM', graceMs = KILL_GRACE_MS) {
      kill(signal, graceMs);
      return exited;
    },
  };
  processes.set(child, proc);
  return proc;
}

/** Runs the CLI to completion (or until timeoutMs) and returns its exit status and output. */
export function runCli(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  return spawnCli(args, { ...opts, keepStdinOpen: false }).exited;
}

function tail(text: string, max = 2_000): string {
  return text.length > max ? `...${text.slice(-max)}` : text;
}

/**
 * Resolves with the match as soon as the child's stdout+stderr so far matches
 * `pattern` (output produced before the call counts). Rejects if the child exits
 * without a match or after `timeoutMs` (default 10000).
 */
export function waitForOutput(
  target: CliProcess | ChildProcess,
  pattern: RegExp,
  timeoutMs = 10_000,
): Promise<RegExpMatchArray> {
  const proc = 'exited' in target ? target : processes.get(target);
  if (!proc) {
    return Promise.reject(new Error('waitForOutput: child was not started with spawnCli()'));
  }
  // Drop g/y so that lastIndex state can never make a match fail.
  const re = new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, ''));
  const { child } = proc;

  return new Promise((resolve, reject) => {
    let done = false;
    const cleanup = () => {
      done = true;
      clearTimeout(timer);
      child.stdout?.off('data', check);
      child.stderr?.off('data', check);
    };
    const check = () => {
      if (done) return;
      const m = proc.output.match(re);
      if (m) {
        cleanup();
        resolve(m);
      }
    };
    const timer = setTimeout(() => {
      if (done) return;
      cleanup();
      reject(
        new Error(
          `waitForOutput: ${re} did not appear within ${timeoutMs} ms. Output so far:\n${tail(proc.output)}`,
        ),
      );
    }, timeoutMs);

    // Listeners added here run after spawnCli's own collectors, so output is current.
    child.stdout?.on('data', check);
    child.stderr?.on('data', check);
    check();
    void proc.exited.then((result) => {
      check();
      if (done) return;
      cleanup();
      reject(
        new Error(
          `waitForOutput: process exited (code ${result.code}, signal ${result.signal}) ` +
            `before ${re} appeared. Output:\n${tail(proc.output)}`,
        ),
      );
    });
  });
}
