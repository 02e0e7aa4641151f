import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { Dispatcher } from '../queue/dispatcher.js';
import { packageRoot } from '../util/package.js';
import type { ResolvedEntry } from './types.js';

export interface EntryOutcome {
  ok: boolean;
  /** One line: what was dispatched, or how the command ended. */
  detail: string;
}

export interface EntryRunnerOptions {
  dispatcher: Dispatcher;
  /** Folder commands run in (the scheduler's). */
  cwd: string;
  /** The config file the scheduler loaded, passed on so commands load the same one. */
  configFile?: string;
  /** Where a command's stdout goes: ours, or our stderr (when ours carries --json lines). */
  commandStdout: 'stdout' | 'stderr';
}

/** Runs what an entry does, once. Never throws: a failure is an outcome. */
export class EntryRunner {
  constructor(private readonly options: EntryRunnerOptions) {}

  /**
   * `stop` aborting passes SIGTERM to a running command (it drains, as under supervisor);
   * `kill` aborting passes SIGKILL.
   */
  async run(entry: ResolvedEntry, stop: AbortSignal, kill: AbortSignal): Promise<EntryOutcome> {
    const { action } = entry;
    if (action.type === 'command') return this.command(action.args, stop, kill);
    try {
      const result = await this.options.dispatcher.dispatch(action.job, action.payload, {
        queue: action.queue,
        priority: action.priority,
        connection: action.connection,
      });
      return {
        ok: true,
        detail: result.deduplicated
          ? `${action.job.name} deduplicated: job #${result.id} is still waiting`
          : `dispatched ${action.job.name} #${result.id}`,
      };
    } catch (error) {
      return {
        ok: false,
        detail: `dispatch of ${action.job.name} failed: ${(error as Error).message}`,
      };
    }
  }

  /**
   * Runs `run ARGS` as a child process with this very binary and Node.
   *
   * The child gets its own process group, and the scheduler passes on exactly one SIGTERM when
   * it stops. In the scheduler's group, a group-wide stop (supervisor's stopasgroup, Ctrl+C)
   * would reach the child twice, and a second SIGTERM tells queue:work to abandon its jobs at
   * once instead of draining them. The scheduler's --grace is shorter than supervisor's
   * stopwaitsecs, so it kills its children itself before supervisor would kill it.
   */
  private command(args: string[], stop: AbortSignal, kill: AbortSignal): Promise<EntryOutcome> {
    const { cwd, configFile, commandStdout } = this.options;
    const env = { ...process.env };
    if (configFile) env.JOBSMITH_CONFIG = configFile;
    return new Promise((resolve) => {
      const child = spawn(process.execPath, [join(packageRoot(), 'bin', 'run'), ...args], {
        cwd,
        env,
        stdio: ['ignore', commandStdout === 'stdout' ? 'inherit' : process.stderr, 'inherit'],
        detached: true,
      });
      const onStop = () => child.kill('SIGTERM');
      const onKill = () => child.kill('SIGKILL');
      const listen = (on: boolean) => {
        for (const [signal, fn] of [
          [stop, onStop],
          [kill, onKill],
        ] as const) {
          if (!on) signal.removeEventListener('abort', fn);
          else if (signal.aborted) fn();
          else signal.addEventListener('abort', fn, { once: true });
        }
      };
      listen(true);
      child.once('error', (error) => {
        listen(false);
        resolve({ ok: false, detail: `could not start: ${error.message}` });
      });
      child.once('exit', (code, sig) => {
        listen(false);
        if (code === 0) resolve({ ok: true, detail: 'exit 0' });
        else resolve({ ok: false, detail: sig ? `killed by ${sig}` : `exit ${code}` });
      });
    });
  }
}
