/**
 * A redis-server of the test's own on a spare 127.0.0.1 port, for what must not be done to the
 * shared server (CONFIG SET, REPLICAOF, a restart). Nothing is saved to disk. Needs redis-server
 * (test/helpers/tools.json): wrap the suite in describeWithTools(['redis-server'], ...).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { redisCommands } from './services.js';
import { waitFor } from './wait.js';
import { sparePort } from './spare-port.js';

export interface OwnRedis {
  url: string;
  port: number;
  /** Sends one command and returns its reply. */
  command(...args: string[]): Promise<unknown>;
  stop(): Promise<void>;
}

/**
 * Starts redis-server with `args` added (e.g. `--maxmemory 64mb`) and waits for PING; on `port`
 * when given (one a test pointed a client at while nothing listened there), else a spare one.
 */
export async function startOwnRedis(
  args: string[] = [],
  options: { port?: number } = {},
): Promise<OwnRedis> {
  const port = options.port ?? (await sparePort());
  const url = `redis://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...args],
    { stdio: 'ignore' },
  );
  const exited = once(child, 'exit');
  const command = async (...cmd: string[]) => (await redisCommands(url, [cmd]))[0];
  try {
    await waitFor(async () => (await command('PING')) === 'PONG', {
      timeoutMs: 10_000,
      message: `redis-server on port ${port} to answer PING`,
    });
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return {
    url,
    port,
    command,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
