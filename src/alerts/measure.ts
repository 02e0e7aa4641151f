/*
 * What each alert's condition measures now, from the storage that already holds it: queue sizes
 * from the queue driver, failures and waits from job_metrics (the per-minute counts workers
 * write, src/metrics), breaker states from the driver's flow store, workers from the workers
 * registry. One check reads each source once, however many alerts use it.
 */
import type { Knex } from 'knex';
import type { BreakerStatus } from '../flow/breakers/store.js';
import { sumMetrics, type MetricsTotals } from '../metrics/store.js';
import type { QueueDriver, QueueSizes } from '../queue/driver.js';
import { workersReport, type WorkerReport } from '../workers/report.js';
import type { Reading } from './decide.js';
import type { ResolvedAlert, ResolvedCondition } from './settings.js';

export interface MeasureSources {
  /** The SQL storage: job_metrics and the workers registry. */
  knex: Knex;
  /** The queue driver of a connection (QUEUE_CONNECTION when undefined). */
  queues(connection?: string): Promise<QueueDriver>;
  /** The check's time, epoch ms. */
  now: number;
}

/** breakerOpen's value: the breaker's state as a number (0 closed, 1 open, 2 half-open). */
export const BREAKER_VALUES = { closed: 0, open: 1, 'half-open': 2 } as const;

/** Reads every alert's condition; an alert whose source failed gets the error. */
export async function measureAll(
  alerts: ResolvedAlert[],
  sources: MeasureSources,
): Promise<Map<string, Reading | Error>> {
  const reader = new SourceReader(sources, alerts);
  const readings = await Promise.all(
    alerts.map(async (a): Promise<[string, Reading | Error]> => {
      try {
        return [a.name, await measure(a.condition, reader)];
      } catch (error) {
        return [a.name, error as Error];
      }
    }),
  );
  return new Map(readings);
}

async function measure(c: ResolvedCondition, read: SourceReader): Promise<Reading> {
  switch (c.type) {
    case 'queueSize': {
      const size = await read.queueSize(c.queue, c.connection);
      return { holds: size > c.above, value: size };
    }
    case 'failureRate': {
      const t = await read.metrics(c.overMs, c);
      const attempts = t ? t.succeeded + t.failed + t.retried : 0;
      if (attempts === 0) return { holds: false, value: null };
      const rate = (t!.failed + t!.retried) / attempts;
      return { holds: attempts >= c.minAttempts && rate > c.above, value: rate };
    }
    case 'failures':
    case 'sendFailures': {
      const t = await read.metrics(c.overMs, c);
      const failed = t ? t.failed + t.retried : 0;
      return { holds: failed > c.above, value: failed };
    }
    case 'waitTime': {
      const t = await read.metrics(c.overMs, { queue: c.queue });
      if (!t || t.waitCount === 0) return { holds: false, value: null };
      const wait = t.waitSumMs / t.waitCount;
      return { holds: wait > c.aboveMs, value: wait };
    }
    case 'breakerOpen': {
      const state = (await read.breaker(c.breaker, c.connection))?.state ?? 'closed';
      return { holds: state !== 'closed', value: BREAKER_VALUES[state] };
    }
    case 'noWorker': {
      const live = (await read.workers()).filter((w) => !w.stale && w.queues.includes(c.queue));
      return { holds: live.length === 0, value: live.length };
    }
  }
}

/** Reads each source once per check, whatever number of alerts ask. */
class SourceReader {
  private readonly cache = new Map<string, Promise<unknown>>();
  /** Queue names per connection key, so one sizes() call serves every queueSize alert. */
  private readonly sizeQueues = new Map<string, string[]>();

  constructor(
    private readonly sources: MeasureSources,
    alerts: ResolvedAlert[],
  ) {
    for (const { condition: c } of alerts) {
      if (c.type !== 'queueSize') continue;
      const key = c.connection ?? '';
      const list = this.sizeQueues.get(key) ?? [];
      if (!list.includes(c.queue)) list.push(c.queue);
      this.sizeQueues.set(key, list);
    }
  }

  private once<T>(key: string, read: () => Promise<T>): Promise<T> {
    let found = this.cache.get(key) as Promise<T> | undefined;
    if (!found) {
      found = read();
      this.cache.set(key, found);
    }
    return found;
  }

  async queueSize(queue: string, connection?: string): Promise<number> {
    const key = connection ?? '';
    const sizes = await this.once(`sizes:${key}`, async () => {
      const driver = await this.sources.queues(connection);
      return driver.sizes(this.sizeQueues.get(key) ?? [queue]);
    });
    const s = sizes.find((q: QueueSizes) => q.queue === queue);
    return s ? s.pending + s.delayed : 0;
  }

  /**
   * Sums of job_metrics over the last `overMs`, in whole minutes (the minute `now - overMs`
   * falls in onwards, the current one included): a queue's, a job name's, or every job's.
   */
  async metrics(
    overMs: number,
    of: { queue?: string; job?: string },
  ): Promise<MetricsTotals | undefined> {
    const since = Math.floor((this.sources.now - overMs) / 60_000) * 60_000;
    const by = of.job !== undefined ? 'job' : 'queue';
    const rows = await this.once(`metrics:${since}:${of.queue ?? ''}:${by}`, () =>
      sumMetrics(this.sources.knex, { since, queue: of.queue }, by),
    );
    if (of.job !== undefined) return rows.find((r) => r.name === of.job);
    if (of.queue !== undefined) return rows.find((r) => r.queue === of.queue);
    return rows.reduce<MetricsTotals | undefined>((sum, r) => (sum ? add(sum, r) : r), undefined);
  }

  async breaker(name: string, connection?: string): Promise<BreakerStatus | undefined> {
    const all = await this.once(`breakers:${connection ?? ''}`, async () =>
      (await this.sources.queues(connection)).flow().breakers.list(),
    );
    return all.find((b) => b.name === name);
  }

  workers(): Promise<WorkerReport[]> {
    return this.once('workers', () => workersReport(this.sources.knex));
  }
}

/** The counts alerts read, added. */
function add(a: MetricsTotals, b: MetricsTotals): MetricsTotals {
  return {
    ...a,
    succeeded: a.succeeded + b.succeeded,
    failed: a.failed + b.failed,
    retried: a.retried + b.retried,
    waitSumMs: a.waitSumMs + b.waitSumMs,
    waitCount: a.waitCount + b.waitCount,
  };
}
