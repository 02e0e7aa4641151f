/**
 * A PostgreSQL cluster of a test's own, for tests that need the server to go away (a restart,
 * an outage): the shared server at 127.0.0.1:5432 is never stopped or restarted. The cluster is
 * made with initdb in a temporary folder, listens on a spare port of 127.0.0.1 (and a socket in
 * its folder), trusts local connections as user `postgres`, and is removed by `remove()`.
 *
 * initdb and pg_ctl refuse to run as root: as root they run as the `postgres` user (runuser),
 * on a folder that user owns.
 *
 * `findPgTools()` says whether the machine can do this. Under CI=true a missing tool is an
 * error (`requirePgTools`), never a silent skip; locally the caller skips with a notice.
 */
import { execFile, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { waitFor } from './wait.js';
import { sparePort } from './spare-port.js';

const run = promisify(execFile);

export interface PgTools {
  /** Folder holding initdb and pg_ctl. */
  bin: string;
  /** Run them as this user (we are root), or undefined to run them as ourselves. */
  asUser?: { name: string; uid: number; gid: number };
}

/**
 * Where initdb and pg_ctl are (PATH, else the newest /usr/lib/postgresql/N/bin), and as whom to
 * run them; `{ missing }`, the reason, when this machine cannot run a cluster.
 */
export function findPgTools(): PgTools | { missing: string } {
  const onPath = spawnSync('sh', ['-c', 'command -v initdb'], { encoding: 'utf8' });
  let bin = onPath.status === 0 ? path.dirname(onPath.stdout.trim()) : undefined;
  if (!bin && existsSync('/usr/lib/postgresql')) {
    const versions = readdirSync('/usr/lib/postgresql')
      .filter((v) => existsSync(`/usr/lib/postgresql/${v}/bin/initdb`))
      .sort((a, b) => Number(a) - Number(b));
    if (versions.length > 0) bin = `/usr/lib/postgresql/${versions.at(-1)}/bin`;
  }
  if (!bin || !existsSync(path.join(bin, 'pg_ctl'))) {
    return { missing: 'initdb and pg_ctl (PostgreSQL server binaries) are not installed' };
  }
  if (process.getuid?.() !== 0) return { bin };
  const id = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
  const runuser = spawnSync('sh', ['-c', 'command -v runuser']);
  if (id.status !== 0 || gid.status !== 0 || runuser.status !== 0) {
    return { missing: 'running as root needs a `postgres` user and runuser for initdb and pg_ctl' };
  }
  return {
    bin,
    asUser: { name: 'postgres', uid: Number(id.stdout.trim()), gid: Number(gid.stdout.trim()) },
  };
}

/**
 * The tools, or undefined after printing a notice (locally); under CI=true, throws instead:
 * a test that needs its own cluster must run there.
 */
export function requirePgTools(what: string): PgTools | undefined {
  const tools = findPgTools();
  if (!('missing' in tools)) return tools;
  const message = `${what} needs a PostgreSQL cluster of its own, but ${tools.missing}.`;
  if (process.env.CI === 'true') throw new Error(message);
  process.stderr.write(`\nNOTICE: ${message} It will be skipped.\n`);
  return undefined;
}

export class PgCluster {
  private constructor(
    private readonly tools: PgTools,
    /** The temporary folder: data/, the server log and the socket. */
    readonly dir: string,
    readonly port: number,
  ) {}

  /** initdb into a fresh temporary folder and start the server. Bounded (60 s per step). */
  static async create(tools: PgTools): Promise<PgCluster> {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'jobsmith-pg-'));
    if (tools.asUser) chownSync(dir, tools.asUser.uid, tools.asUser.gid);
    const cluster = new PgCluster(tools, dir, await sparePort());
    try {
      await cluster.tool('initdb', [
        '-D',
        cluster.data,
        '-U',
        'postgres',
        '-A',
        'trust',
        '-E',
        'UTF8',
        '--locale=C',
        '--no-sync',
      ]);
      await cluster.start();
    } catch (error) {
      await cluster.remove();
      throw error;
    }
    return cluster;
  }

  private get data(): string {
    return path.join(this.dir, 'data');
  }

  /** A URL for `database` on this cluster (user postgres, trust auth). */
  url(database = 'postgres'): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`;
  }

  /** Starts the server and waits until it answers a query. */
  async start(): Promise<void> {
    const options = [
      `-p ${this.port}`,
      `-k ${this.dir}`,
      '-c listen_addresses=127.0.0.1',
      // A test cluster: nothing needs to survive a machine crash.
      '-c fsync=off',
      '-c full_page_writes=off',
    ].join(' ');
    await this.tool('pg_ctl', [
      '-D',
      this.data,
      '-l',
      path.join(this.dir, 'server.log'),
      '-o',
      options,
      '-w',
      '-t',
      '60',
      'start',
    ]);
    await waitFor(() => this.ready(), {
      timeoutMs: 30_000,
      intervalMs: 50,
      message: `the test cluster on port ${this.port} to answer`,
    });
  }

  /**
   * Stops the server. `fast` (the default) ends sessions and writes a shutdown checkpoint, as
   * an operator's restart does: every transaction that committed is kept.
   */
  async stop(mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    await this.tool('pg_ctl', ['-D', this.data, '-m', mode, '-w', '-t', '60', 'stop']);
  }

  /** Whether the server answers `select 1` now. */
  async ready(): Promise<boolean> {
    const client = new pg.Client({ connectionString: this.url(), connectionTimeoutMillis: 1000 });
    client.on('error', () => {});
    try {
      await client.connect();
      await client.query('select 1');
      return true;
    } catch {
      return false;
    } finally {
      await client.end().catch(() => {});
    }
  }

  /** Runs SQL on `database` (default postgres), one statement at a time. */
  async sql(statement: string, database = 'postgres'): Promise<pg.QueryResult> {
    const client = new pg.Client({ connectionString: this.url(database) });
    client.on('error', () => {});
    await client.connect();
    try {
      return await client.query(statement);
    } finally {
      await client.end().catch(() => {});
    }
  }

  /** The end of the server's log, for failure messages. */
  log(chars = 3000): string {
    try {
      return readFileSync(path.join(this.dir, 'server.log'), 'utf8').slice(-chars);
    } catch {
      return '(no server log)';
    }
  }

  /** Stops the server if it runs and deletes the folder. Safe to call twice. */
  async remove(): Promise<void> {
    if (!existsSync(this.dir)) return;
    if (existsSync(path.join(this.data, 'postmaster.pid')))
      await this.stop('immediate').catch(() => {});
    rmSync(this.dir, { recursive: true, force: true, maxRetries: 3 });
  }

  private async tool(name: string, args: string[]): Promise<void> {
    const command = path.join(this.tools.bin, name);
    const [file, argv] = this.tools.asUser
      ? ['runuser', ['-u', this.tools.asUser.name, '--', command, ...args]]
      : [command, args];
    try {
      await run(file, argv, { timeout: 60_000, cwd: this.dir });
    } catch (error) {
      const e = error as Error & { stderr?: string };
      throw new Error(`${name} failed: ${e.stderr || e.message}\n${this.log()}`, { cause: error });
    }
  }
}
