/*
 * metrics:serve's gauges, set from each snapshot (snapshot.ts) as it arrives; a scrape reads
 * them as they are. A queue seen once stays, at 0, when it empties: a series that vanished
 * would look like missing data, not like an empty queue.
 */
import type { Counter, Gauge, Registry } from 'prom-client';
import { spec } from './job-metrics.js';
import { BREAKER_STATE_VALUES, METRICS } from './names.js';
import type { Prom } from './prom.js';
import type { QueueSnapshot } from '../snapshot/snapshot.js';

const STATES = ['pending', 'delayed', 'reserved'] as const;

export class QueueGauges {
  private readonly size: Gauge<string>;
  private readonly failed: Gauge<string>;
  private readonly paused: Gauge<string>;
  private readonly breaker: Gauge<string>;
  private readonly backlog: Gauge<string>;
  private readonly refreshedAt: Gauge<string>;
  private readonly refreshDuration: Gauge<string>;
  private readonly failures: Counter<string>;
  private readonly seen = new Set<string>();

  constructor(prom: Prom, registry: Registry) {
    const gauge = (m: Parameters<typeof spec>[0]) =>
      new prom.Gauge({ ...spec(m), registers: [registry] });
    this.size = gauge(METRICS.queueSize);
    this.failed = gauge(METRICS.failedJobs);
    this.paused = gauge(METRICS.queuePaused);
    this.breaker = gauge(METRICS.breakerState);
    this.backlog = gauge(METRICS.rateLimitBacklog);
    this.refreshedAt = gauge(METRICS.refreshedAt);
    this.refreshDuration = gauge(METRICS.refreshDuration);
    this.failures = new prom.Counter({ ...spec(METRICS.refreshFailures), registers: [registry] });
  }

  /** Sets every gauge from `s`, at once (no scrape sees half of it: this does not await). */
  apply(s: QueueSnapshot): void {
    const queues = new Map(s.queues.map((q) => [q.queue, q]));
    for (const q of queues.keys()) this.seen.add(q);
    for (const name of this.seen) {
      const q = queues.get(name);
      for (const state of STATES) this.size.set({ queue: name, state }, q?.[state] ?? 0);
      this.failed.set({ queue: name }, q?.failed ?? 0);
      this.paused.set({ queue: name }, q?.paused ? 1 : 0);
    }
    // Breakers and limits come from the config and the storage, so a vanished one is gone.
    this.breaker.reset();
    for (const b of s.breakers) this.breaker.set({ name: b.name }, BREAKER_STATE_VALUES[b.state]);
    this.backlog.reset();
    for (const l of s.limits) this.backlog.set({ limit: l.name }, l.backlogSeconds);
    this.refreshedAt.set(s.at / 1000);
    this.refreshDuration.set(s.durationMs / 1000);
  }

  /** A read failed: counted; the gauges keep their last values. */
  failedRefresh(): void {
    this.failures.inc();
  }
}
