// The environment a run was taken in: machine, versions and durability settings.
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { PG_ADMIN_URL, REDIS_URL, requireFromRoot, ROOT_DIR, withPg } from './lib.mjs';

const benchRequire = createRequire(import.meta.url);
const version = (req, name) => {
  try {
    return req(`${name}/package.json`).version;
  } catch {
    return null;
  }
};

function git() {
  try {
    const run = (args) => execFileSync('git', args, { cwd: ROOT_DIR, encoding: 'utf8' }).trim();
    return { commit: run(['rev-parse', 'HEAD']), dirty: run(['status', '--porcelain']) !== '' };
  } catch {
    return null;
  }
}

async function postgres() {
  return withPg(PG_ADMIN_URL, async (c) => {
    const settings = [
      'synchronous_commit',
      'fsync',
      'wal_sync_method',
      'full_page_writes',
      'shared_buffers',
      'max_connections',
      'autovacuum',
    ];
    const { rows } = await c.query(
      'select name, setting, unit from pg_settings where name = any($1)',
      [settings],
    );
    const version = (await c.query('show server_version')).rows[0].server_version;
    return {
      version,
      settings: Object.fromEntries(
        rows.map((r) => [r.name, r.unit ? `${r.setting} ${r.unit}` : r.setting]),
      ),
    };
  });
}

async function redis() {
  const { default: IORedis } = await import('ioredis');
  const client = new IORedis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await client.connect();
    const info = await client.info('server');
    const version = /redis_version:(\S+)/.exec(info)?.[1];
    const get = async (k) => (await client.config('GET', k))[1];
    return {
      version,
      settings: {
        appendonly: await get('appendonly'),
        appendfsync: await get('appendfsync'),
        save: await get('save'),
      },
    };
  } finally {
    client.disconnect();
  }
}

function sqlite() {
  const Sqlite = requireFromRoot('better-sqlite3');
  const db = new Sqlite(':memory:');
  const v = db.prepare('select sqlite_version()').pluck().get();
  db.close();
  return {
    version: v,
    settings: { journal_mode: 'wal', synchronous: 'normal (1)', busy_timeout: 5000 },
  };
}

export async function environment(backend) {
  const cpu = cpus();
  const env = {
    date: new Date().toISOString(),
    machine: {
      cpu: cpu[0]?.model ?? 'unknown',
      cores: cpu.length,
      memoryGb: Math.round(totalmem() / 1073741824),
      os: `${process.platform} ${release()} ${process.arch}`,
      loadAverageAtStart: loadavg().map((x) => Math.round(x * 100) / 100),
    },
    node: process.version,
    jobsmith: { version: requireFromRoot('./package.json').version, git: git() },
    peers: {
      'graphile-worker': version(benchRequire, 'graphile-worker'),
      'pg-boss': version(benchRequire, 'pg-boss'),
      bullmq: version(benchRequire, 'bullmq'),
      'bee-queue': version(benchRequire, 'bee-queue'),
      ioredis: version(benchRequire, 'ioredis'),
      pg: version(benchRequire, 'pg'),
      'better-sqlite3': version(requireFromRoot, 'better-sqlite3'),
      'jobsmith bullmq': version(requireFromRoot, 'bullmq'),
    },
  };
  if (backend === 'pgsql') env.postgres = await postgres();
  if (backend === 'redis') env.redis = await redis();
  if (backend === 'sqlite') env.sqlite = sqlite();
  return env;
}
