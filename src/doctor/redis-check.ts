import type { App } from '../cli/app.js';
import { maskUrl } from '../logging/redact.js';
import { resolveSchedule } from '../schedule/resolve.js';
import { fail, ok, skip, type CheckResult } from './check.js';
import { probeRedis, RedisDatabaseError } from './redis-probe.js';

/** BullMQ refuses older servers (RedisConnection.minimumVersion). */
const MINIMUM_VERSION = '5.0.0';

/** Who uses Redis: QUEUE_CONNECTION, and every job and schedule entry that names it. */
async function redisUsers(app: App): Promise<string[]> {
  const users: string[] = [];
  if (app.env.QUEUE_CONNECTION === 'redis') users.push('QUEUE_CONNECTION=redis');
  try {
    const { config, file } = await app.config();
    const jobs = (config.jobs ?? []).filter((j) => j.connection === 'redis').map((j) => j.name);
    if (jobs.length > 0) users.push(`job${jobs.length === 1 ? '' : 's'} ${jobs.join(', ')}`);
    for (const entry of resolveSchedule(config, file)) {
      if (entry.action.type === 'job' && entry.action.connection === 'redis') {
        users.push(`schedule entry ${entry.name}`);
      }
    }
  } catch {
    // An unreadable config is the configuration check's to report.
  }
  return users;
}

const older = (version: string, than: string) => {
  const a = version.split('.').map(Number);
  const b = than.split('.').map(Number);
  for (let i = 0; i < 3; i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) < (b[i] ?? 0);
  return false;
};

export async function checkRedis(app: App): Promise<CheckResult> {
  const name = 'Redis';
  const users = await redisUsers(app);
  if (users.length === 0) {
    return skip(
      name,
      `not used (QUEUE_CONNECTION=${app.env.QUEUE_CONNECTION}, and no job or schedule entry names connection 'redis')`,
    );
  }
  const url = maskUrl(app.env.REDIS_URL);
  const usedBy = `(used by ${users.join(', ')})`;
  let facts;
  try {
    facts = await probeRedis(app.env.REDIS_URL, app.env.REDIS_PREFIX);
  } catch (error) {
    return fail(
      name,
      `${(error as Error).message} ${usedBy}`,
      error instanceof RedisDatabaseError
        ? 'Use a database the server has in REDIS_URL (redis://host:6379/0), or raise `databases` in redis.conf.'
        : 'Check REDIS_URL and that the Redis server is running.',
    );
  }
  if (facts.writeError) {
    return fail(
      name,
      `${url} answers PING but refuses writes: ${facts.writeError}`,
      'Point REDIS_URL at the primary, not a read-only replica (READONLY); MISCONF means Redis cannot save to disk, OOM that maxmemory is reached.',
    );
  }
  if (facts.version && older(facts.version, MINIMUM_VERSION)) {
    return fail(
      name,
      `${url} runs Redis ${facts.version}; BullMQ needs ${MINIMUM_VERSION} or later`,
      'Upgrade Redis (6.2 or later is recommended).',
    );
  }
  const policy = facts.maxmemoryPolicy;
  if (policy && policy !== 'noeviction' && (facts.maxmemory ?? 0) > 0) {
    return fail(
      name,
      `${url} has maxmemory-policy ${policy} with maxmemory ${facts.maxmemory} bytes: when it is full, Redis deletes keys, jobs included`,
      'Set maxmemory-policy noeviction (in redis.conf, or CONFIG SET maxmemory-policy noeviction), as BullMQ requires.',
    );
  }
  const about = [
    facts.version && `Redis ${facts.version}`,
    policy && `maxmemory-policy ${policy}`,
  ].filter(Boolean);
  return ok(
    name,
    `${url} answered PING in ${facts.pingMs}ms and takes writes${about.length ? `; ${about.join(', ')}` : ''} ${usedBy}`,
  );
}
