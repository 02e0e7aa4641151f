/*
 * Counters and histograms for a worker's hot path: a job adds to plain numbers of a series it
 * looked up once, instead of prom-client's Counter.inc / Histogram.observe, which hash and check
 * the labels on every call (about 2 µs a job for the three job metrics; this is about 50 ns).
 * Each family registers with a prom-client Registry as any metric does and renders at scrape
 * time in prom-client's own shape (what Counter.get() and Histogram.get() return), so the text is
 * the same: test/telemetry.units.test.ts compares both on the same observations.
 */
import type { MetricSpec } from './names.js';

interface Exported {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
}

/** The part of prom-client's metric interface its Registry reads. */
interface RegistryMetric {
  name: string;
  help: string;
  type: 'counter' | 'histogram';
  aggregator: 'sum';
  get(): Promise<{
    name: string;
    help: string;
    type: string;
    values: Exported[];
    aggregator: 'sum';
  }>;
}

abstract class Family<S> implements RegistryMetric {
  abstract readonly type: 'counter' | 'histogram';
  readonly aggregator = 'sum' as const;
  readonly name: string;
  readonly help: string;
  private readonly labelNames: readonly string[];
  private readonly byKey = new Map<string, { labels: Record<string, string>; series: S }>();

  constructor(spec: Pick<MetricSpec, 'name' | 'help' | 'labels'>) {
    this.name = spec.name;
    this.help = spec.help;
    this.labelNames = spec.labels;
  }

  /** The series of these label values, in the spec's label order; made (at 0) on first use. */
  series(...values: string[]): S {
    const key = values.join('\u0000');
    let entry = this.byKey.get(key);
    if (!entry) {
      const labels = Object.fromEntries(this.labelNames.map((n, i) => [n, values[i] ?? '']));
      entry = { labels, series: this.create() };
      this.byKey.set(key, entry);
    }
    return entry.series;
  }

  async get() {
    const values: Exported[] = [];
    for (const { labels, series } of this.byKey.values()) this.export(labels, series, values);
    return {
      name: this.name,
      help: this.help,
      type: this.type,
      values,
      aggregator: this.aggregator,
    };
  }

  protected abstract create(): S;
  protected abstract export(labels: Record<string, string>, series: S, out: Exported[]): void;
}

export class CounterFamily extends Family<{ value: number }> {
  readonly type = 'counter' as const;

  protected create() {
    return { value: 0 };
  }

  protected export(labels: Record<string, string>, s: { value: number }, out: Exported[]) {
    out.push({ labels, value: s.value });
  }
}

export class HistogramSeries {
  /** Observations per bucket (not cumulative); the last is above every bound. */
  readonly counts: number[];
  sum = 0;
  count = 0;

  constructor(private readonly bounds: readonly number[]) {
    this.counts = new Array<number>(bounds.length + 1).fill(0);
  }

  observe(value: number): void {
    let i = 0;
    while (i < this.bounds.length && value > this.bounds[i]!) i++;
    this.counts[i]!++;
    this.sum += value;
    this.count++;
  }
}

export class HistogramFamily extends Family<HistogramSeries> {
  readonly type = 'histogram' as const;

  constructor(
    spec: Pick<MetricSpec, 'name' | 'help' | 'labels'>,
    private readonly bounds: readonly number[],
  ) {
    super(spec);
  }

  protected create() {
    return new HistogramSeries(this.bounds);
  }

  protected export(labels: Record<string, string>, s: HistogramSeries, out: Exported[]) {
    let cumulative = 0;
    this.bounds.forEach((le, i) => {
      cumulative += s.counts[i]!;
      out.push({ labels: { le, ...labels }, value: cumulative, metricName: `${this.name}_bucket` });
    });
    out.push(
      { labels: { le: '+Inf', ...labels }, value: s.count, metricName: `${this.name}_bucket` },
      { labels, value: s.sum, metricName: `${this.name}_sum` },
      { labels, value: s.count, metricName: `${this.name}_count` },
    );
  }
}
