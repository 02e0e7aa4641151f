import { InvalidCursorError, type JobPage, type JobPageQuery, type JobRow } from '../driver.js';
import type { JobState } from '../driver.js';
import { jobRow, ROW_FIELDS } from '../admin/redis-admin.js';
import type { BullRedis } from './bull-redis.js';

/*
 * Keyset pages of a queue's jobs on Redis (QueueDriver.listPage). `list` scans the whole queue
 * to merge priorities across BullMQ's lists and sets; a page here reads only from where the
 * last one stopped, one structure after another in the order jobs run from each: the held
 * jobs (active, claimed longest ago first), the wait and paused lists (they pop from the
 * right), the prioritized set by score, then the delayed set by due time.
 *
 * The cursor is `<structure>:<score>:<bull id>`. In a list a job's place is found again with
 * LPOS (Redis walks the list in C); a job no longer there was taken, and so were those before
 * it (a list pops in order): the page goes on from the list's head. In a set the page goes on
 * from the score (ties by member, as Redis orders them).
 *
 * A tag or name lives in each job's hash: matching one means reading the jobs, so a page reads
 * at most EXAMINED jobs and may come back short, with a `next` to go on from.
 */

/** The most jobs one page reads to fill itself (a tag filter that matches few). */
export const EXAMINED = 1_000;

const STRUCTURES = ['active', 'wait', 'paused', 'prioritized', 'delayed'] as const;
type Structure = (typeof STRUCTURES)[number];

/** Which structures hold jobs of a state (a due delayed job is pending). */
const HOLDING: Record<JobState | 'any', readonly Structure[]> = {
  any: STRUCTURES,
  pending: STRUCTURES,
  delayed: ['delayed'],
  reserved: ['active'],
};

interface Place {
  structure: number;
  /** The job's score in a sorted set; '' in a list. */
  score: string;
  bullId: string;
}

interface Candidate extends Place {
  state: JobState;
  /** Due time or lease end (ms), '' when none: what jobRow takes. */
  at: string;
}

const CURSOR = /^([0-4]):(\d{0,20}):(.{1,190})$/;

function parseCursor(text: string): Place {
  const match = CURSOR.exec(text);
  if (!match) throw new InvalidCursorError();
  const structure = Number(match[1]);
  if (
    (STRUCTURES[structure] === 'prioritized' || STRUCTURES[structure] === 'delayed') !==
    (match[2] !== '')
  ) {
    throw new InvalidCursorError();
  }
  return { structure, score: match[2]!, bullId: match[3]! };
}

const cursorOf = (p: Place) => `${p.structure}:${p.score}:${p.bullId}`;

export async function listJobPage(
  redis: BullRedis,
  queue: string,
  query: JobPageQuery,
): Promise<JobPage> {
  const from = query.after === undefined ? undefined : parseCursor(query.after);
  const structures = HOLDING[query.state ?? 'any'];
  const now = redis.clock.now();
  const chunk = query.tag === undefined && query.name === undefined ? query.limit + 1 : 200;
  const budget = Math.max(query.limit + 1, EXAMINED);
  const found: Array<{ row: JobRow; place: Place }> = [];
  let examined = 0;
  let last: Place | undefined;
  for (let s = from?.structure ?? 0; s < STRUCTURES.length; s++) {
    if (!structures.includes(STRUCTURES[s]!)) continue;
    let after = from?.structure === s ? from : undefined;
    for (;;) {
      const want = Math.min(chunk, budget - examined);
      const candidates = await readPlaces(redis, queue, s, after, want, now, query.state);
      if (candidates.length === 0) break;
      const rows = await readRows(redis, queue, candidates, now);
      for (let i = 0; i < candidates.length; i++) {
        const row = rows[i];
        const place = candidates[i]!;
        examined++;
        last = place;
        if (row && matches(row, query)) {
          found.push({ row, place });
          if (found.length > query.limit) {
            return {
              jobs: found.slice(0, -1).map((f) => f.row),
              next: cursorOf(found[query.limit - 1]!.place),
            };
          }
        }
      }
      if (examined >= budget && last) {
        return { jobs: found.map((f) => f.row), next: cursorOf(last) };
      }
      if (candidates.length < want) break;
      after = last;
    }
  }
  return { jobs: found.map((f) => f.row), next: null };
}

function matches(row: JobRow, query: JobPageQuery): boolean {
  return (
    (query.tag === undefined || row.tags.includes(query.tag)) &&
    (query.name === undefined || row.name === query.name)
  );
}

/**
 * Up to `count` jobs of one structure after `after` (from its start without), in run order,
 * with the state each is in (a state asked for leaves the others out).
 */
async function readPlaces(
  redis: BullRedis,
  queue: string,
  structure: number,
  after: Place | undefined,
  count: number,
  now: number,
  state: JobState | undefined,
): Promise<Candidate[]> {
  const k = redis.keysOf(queue);
  const name = STRUCTURES[structure]!;
  if (name === 'prioritized' || name === 'delayed') {
    const key = name === 'prioritized' ? k.prioritized : k.delayed;
    // A delayed job is due once its score (ms << 12, plus a counter) reaches now's.
    const dueMax = (now + 1) * 0x1000 - 1;
    const [min, max] =
      name === 'delayed' && state === 'pending'
        ? ['-inf', String(dueMax)]
        : name === 'delayed' && state === 'delayed'
          ? [`(${dueMax}`, '+inf']
          : ['-inf', '+inf'];
    const members = await sortedAfter(redis, key, after, min, max, count);
    return members.map(([bullId, score]) => {
      if (name === 'prioritized') return { structure, score, bullId, state: 'pending', at: '' };
      const at = Math.floor(Number(score) / 0x1000);
      return { structure, score, bullId, state: at <= now ? 'pending' : 'delayed', at: String(at) };
    });
  }
  const key = name === 'active' ? k.active : name === 'wait' ? k.wait : k.paused;
  const ids = await listAfter(redis, key, after?.bullId, count);
  if (name !== 'active') {
    return ids.map((bullId) => ({ structure, score: '', bullId, state: 'pending', at: '' }));
  }
  // A held job has its lock; one whose lock expired can be claimed again: pending.
  const tx = redis.tx('pipeline');
  for (const id of ids) tx.pttl(`${k['']}${id}:lock`);
  const ttls = (await redis.exec(tx)).map(Number);
  return ids.flatMap((bullId, i): Candidate[] => {
    const held = ttls[i]! > 0;
    if (state !== undefined && state !== (held ? 'reserved' : 'pending')) return [];
    return [
      {
        structure,
        score: '',
        bullId,
        state: held ? 'reserved' : 'pending',
        at: held ? String(now + ttls[i]!) : '',
      },
    ];
  });
}

/** The members of a sorted set after `after` in (score, member) order, with their scores. */
async function sortedAfter(
  redis: BullRedis,
  key: string,
  after: Place | undefined,
  min: string,
  max: string,
  count: number,
): Promise<Array<[string, string]>> {
  const client = redis.up();
  const pairs = (flat: string[]) => {
    const out: Array<[string, string]> = [];
    for (let i = 0; i + 1 < flat.length; i += 2) out.push([flat[i]!, flat[i + 1]!]);
    return out;
  };
  if (after === undefined) {
    return pairs(await client.zrangebyscore(key, min, max, 'WITHSCORES', 'LIMIT', 0, count));
  }
  // Members of the cursor's own score that sort after it, then the higher scores.
  const ties = pairs(await client.zrangebyscore(key, after.score, after.score, 'WITHSCORES'))
    .filter(([member]) => member > after.bullId)
    .slice(0, count);
  const higherMin = maxBound(min, `(${after.score}`);
  const rest = pairs(
    await client.zrangebyscore(key, higherMin, max, 'WITHSCORES', 'LIMIT', 0, count - ties.length),
  );
  return [...ties, ...rest];
}

/** The greater of two ZRANGEBYSCORE lower bounds (`-inf`, `(n` or `n`). */
function maxBound(a: string, b: string): string {
  const value = (bound: string) => (bound === '-inf' ? -Infinity : Number(bound.replace('(', '')));
  return value(a) > value(b) ? a : b;
}

/**
 * Up to `count` ids of a list in the order they pop (from the right), after `afterId`; from
 * the right end without it, or when it is gone (popped: so were those before it).
 */
async function listAfter(
  redis: BullRedis,
  key: string,
  afterId: string | undefined,
  count: number,
): Promise<string[]> {
  const client = redis.up();
  let end: number;
  if (afterId === undefined) {
    end = (await client.llen(key)) - 1;
  } else {
    const at = await client.lpos(key, afterId);
    end = at === null ? (await client.llen(key)) - 1 : at - 1;
  }
  if (end < 0) return [];
  return (await client.lrange(key, Math.max(0, end - count + 1), end)).reverse();
}

/** The jobs' rows (null for one finished since its place was read). */
async function readRows(
  redis: BullRedis,
  queue: string,
  candidates: Candidate[],
  now: number,
): Promise<Array<JobRow | null>> {
  const prefix = redis.keysOf(queue)[''];
  const tx = redis.tx('pipeline');
  for (const c of candidates) tx.hmget(prefix + c.bullId, ...ROW_FIELDS);
  const replies = await redis.exec(tx);
  return candidates.map((c, i) =>
    jobRow(queue, c.bullId, c.state, c.at, replies[i] as Array<string | null>, now),
  );
}
