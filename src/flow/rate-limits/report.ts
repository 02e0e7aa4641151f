/*
 * What `run limits:list` shows: each configured limit, its push-back and its busiest keys, read
 * from the storage of one queue connection. Kept apart from the command so that it holds no
 * logic of its own.
 */
import { formatDuration, formatDurationInput } from '../../util/duration.js';
import type { RateLimitRule, RateLimitStore } from './store.js';

export interface LimitKeyReport {
  key: string;
  /** When the key lets a request through again (ISO), and in how many ms (0: now). */
  freeAt: string;
  freeInMs: number;
  /** Up to when jobs denied on it have been given slots (ISO), and in how many ms. */
  queuedUntil: string;
  queuedForMs: number;
}

export interface LimitReport {
  name: string;
  limit: number;
  /** The window, in ms, and as written in a config ('1s'). */
  perMs: number;
  per: string;
  burst: number;
  /** When a push-back of the whole limit ends (ISO), or null. */
  blockedUntil: string | null;
  /** The busiest keys, the one that frees last first. */
  keys: LimitKeyReport[];
}

/** Reads every limit of `rules` from `store`, at most `top` keys each. */
export async function limitsReport(
  store: RateLimitStore,
  rules: ReadonlyMap<string, RateLimitRule>,
  top: number,
): Promise<LimitReport[]> {
  const reports: LimitReport[] = [];
  for (const rule of rules.values()) {
    const usage = await store.list(rule, top);
    const iso = (ms: number) => new Date(ms).toISOString();
    reports.push({
      name: rule.name,
      limit: rule.limit,
      perMs: rule.perMs,
      per: formatDurationInput(rule.perMs),
      burst: rule.burst,
      blockedUntil: usage.blockedUntil === undefined ? null : iso(usage.blockedUntil),
      keys: usage.keys.map((k) => ({
        key: k.key,
        freeAt: iso(k.freeAt),
        freeInMs: k.freeAt - usage.now,
        queuedUntil: iso(k.backlogUntil),
        queuedForMs: k.backlogUntil - usage.now,
      })),
    });
  }
  return reports;
}

/** The report as table rows: a limit's first row names it; one row per busy key. */
export function limitsRows(reports: readonly LimitReport[]): string[][] {
  const rows: string[][] = [];
  const wait = (ms: number) => (ms > 0 ? `in ${formatDuration(ms)}` : 'now');
  for (const r of reports) {
    const rule = `${r.limit} per ${r.per}${r.burst > 0 ? `, burst ${r.burst}` : ''}`;
    const blocked = r.blockedUntil ? `until ${r.blockedUntil}` : '-';
    if (r.keys.length === 0) rows.push([r.name, rule, blocked, '(idle)', '', '']);
    r.keys.forEach((k, i) =>
      rows.push([
        i === 0 ? r.name : '',
        i === 0 ? rule : '',
        i === 0 ? blocked : '',
        k.key === '' ? '(no key)' : k.key,
        wait(k.freeInMs),
        k.queuedForMs > k.freeInMs ? wait(k.queuedForMs) : '-',
      ]),
    );
  }
  return rows;
}
