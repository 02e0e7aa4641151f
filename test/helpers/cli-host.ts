/**
 * Runs short CLI commands in a long-lived `run` process instead of a new one per command.
 *
 * Starting Node and loading the CLI (knex and its lodash, commander, zod, pino...) costs about
 * 0.25 s of CPU per command; the queue-command suites run hundreds of commands, so on a loaded
 * 2-core machine that start-up was most of their time. A host (test/helpers/cli-host-child.mjs)
 * imports the CLI once and runs one command at a time with the command's own environment,
 * folder and stdin, and returns its exit code and output as `runCli` does.
 *
 * Use it only for commands that finish on their own and need no signals or terminal: long-running
 * processes (workers without --stop-when-empty) and tests of start-up itself keep `spawnCli`.
 * Commands run at the same time get a host each (a small pool), so races between two commands
 * still race. A command that outlives `timeoutMs` kills its host and reports `timedOut`.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { cliEnv, REPO_ROOT, runCli, type CliOptions, type CliResult } from './cli.js';

const CHILD = fileURLToPath(new URL('./cli-host-child.mjs', import.meta.url));
const DEFAULT_TIMEOUT_MS = 20_000;

interface Host {
  child: ChildProcess;
  ready: Promise<void>;
}

const idle: Host[] = [];
const all = new Set<Host>();
let exitHookInstalled = false;

function startHost(): Host {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const host of all) host.child.kill('SIGKILL');
    });
  }
  // The host's own environment only sets colour off; each command brings its environment.
  const child = fork(CHILD, [], {
    cwd: REPO_ROOT,
    env: cliEnv(),
    execArgv: ['--no-warnings'],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const ready = new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) =>
      reject(new Error(`cli host exited (${code}) before it was ready`)),
    );
  });
  ready.catch(() => {});
  const host = { child, ready };
  all.add(host);
  child.once('exit', () => {
    all.delete(host);
    const i = idle.indexOf(host);
    if (i >= 0) idle.splice(i, 1);
  });
  // The pool must not keep a finished test file's worker alive.
  child.unref();
  child.channel?.unref();
  return host;
}

/** Variables Node reads only when a process starts: a command given one gets its own process. */
const STARTUP_VARIABLES = ['NODE_EXTRA_CA_CERTS', 'NODE_OPTIONS'];

/** Runs `run <args>` in a host process; same result shape as runCli. */
export async function runCliInHost(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  if (STARTUP_VARIABLES.some((name) => opts.env?.[name] !== undefined)) return runCli(args, opts);
  const host = idle.pop() ?? startHost();
  await host.ready;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  host.child.channel?.ref();
  try {
    return await new Promise<CliResult>((resolve) => {
      const finish = (result: CliResult) => {
        clearTimeout(timer);
        host.child.off('message', onReply);
        host.child.off('exit', onExit);
        resolve(result);
      };
      const onReply = (reply: { code: number; stdout: string; stderr: string }) => {
        idle.push(host);
        finish({ ...reply, signal: null, timedOut: false });
      };
      const onExit = (code: number | null, signal: NodeJS.Signals | null) =>
        finish({
          code,
          signal,
          stdout: '',
          stderr: `[cli host exited during the command: ${code ?? signal}]`,
          timedOut: false,
        });
      const timer = setTimeout(() => {
        host.child.kill('SIGKILL');
        finish({ code: null, signal: 'SIGKILL', stdout: '', stderr: '', timedOut: true });
      }, timeoutMs);
      host.child.on('message', onReply);
      host.child.on('exit', onExit);
      host.child.send({
        args,
        cwd: opts.cwd ?? REPO_ROOT,
        env: cliEnv(opts.env),
        input: opts.input,
      });
    });
  } finally {
    host.child.channel?.unref();
  }
}
