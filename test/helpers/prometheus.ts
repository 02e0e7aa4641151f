/**
 * Reads a /metrics endpoint the way Prometheus does: an HTTP GET on 127.0.0.1 and a strict
 * parser of the text exposition format (version 0.0.4, prometheus.io/docs/instrumenting/
 * exposition_formats): `# HELP` and `# TYPE` lines, samples with escaped label values, and
 * histograms checked as a scraper would (buckets cumulative, `+Inf` equal to `_count`).
 *
 * Ours, not parse-prometheus-text-format: that package drops the labels of every histogram
 * that has some, merging all its series into one (its issue #13 and PR #8, open since 2019).
 */
import { waitFor, type WaitForOptions } from './wait.js';

export interface Sample {
  labels: Record<string, string>;
  value: number;
}

export interface HistogramSeries {
  labels: Record<string, string>;
  /** Cumulative counts by upper bound as written (`0.005`, ..., `+Inf`). */
  buckets: Map<string, number>;
  count: number;
  sum: number;
}

export interface Family {
  name: string;
  help: string;
  type: 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';
  samples: Sample[];
  /** For histograms: one entry per label set, without `le`. */
  series: HistogramSeries[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Parses `text`; throws on anything a Prometheus server would refuse. */
export function parsePrometheusText(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const familyOf = (name: string): Family => {
    let f = families.get(name);
    if (!f) {
      f = { name, help: '', type: 'untyped', samples: [], series: [] };
      families.set(name, f);
    }
    return f;
  };
  for (const [i, line] of text.split('\n').entries()) {
    const where = `line ${i + 1} (${JSON.stringify(line)})`;
    if (line === '') continue;
    const meta = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
    if (meta) {
      const [, kind, name, rest] = meta;
      if (!NAME.test(name!)) throw new Error(`bad metric name on ${where}`);
      const f = familyOf(name!);
      if (kind === 'HELP') f.help = rest!.replace(/\\n/g, '\n').replace(/\\\\/g, '\\');
      else {
        if (!['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(rest!))
          throw new Error(`bad type on ${where}`);
        if (f.samples.length > 0) throw new Error(`TYPE after samples on ${where}`);
        f.type = rest as Family['type'];
      }
      continue;
    }
    if (line.startsWith('#')) continue;
    const { name, labels, value } = parseSample(line, where);
    const base = name.replace(/_(bucket|count|sum)$/, '');
    const histogram = families.get(base)?.type === 'histogram' && base !== name;
    const f = histogram ? families.get(base)! : familyOf(name);
    if (!histogram && f.type === 'histogram') throw new Error(`bare histogram sample on ${where}`);
    if (f.type === 'counter' && value < 0) throw new Error(`negative counter on ${where}`);
    f.samples.push({ labels: name === base ? labels : { ...labels, __name__: name }, value });
  }
  for (const f of families.values()) if (f.type === 'histogram') f.series = histogramSeries(f);
  return families;
}

function parseSample(line: string, where: string) {
  const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)( -?\d+)?$/.exec(line);
  if (!m) throw new Error(`bad sample on ${where}`);
  const labels: Record<string, string> = {};
  let rest = m[2] ? m[2].slice(1, -1) : '';
  while (rest.length > 0) {
    const l = /^([^=]+)="((?:[^"\\]|\\.)*)"(,?)/.exec(rest);
    if (!l || !LABEL.test(l[1]!)) throw new Error(`bad labels on ${where}`);
    if (l[1]! in labels) throw new Error(`label ${l[1]} twice on ${where}`);
    labels[l[1]!] = l[2]!.replace(/\\(["\\n])/g, (_, c: string) => (c === 'n' ? '\n' : c));
    rest = rest.slice(l[0].length);
    if (l[3] === '' && rest.length > 0) throw new Error(`bad labels on ${where}`);
  }
  // Values as Prometheus reads them (Go's ParseFloat): NaN and Inf in any case (prom-client
  // writes `Nan` for an empty event-loop histogram).
  const raw = m[3]!;
  const inf = /^([+-]?)inf(inity)?$/i.exec(raw);
  const value = inf
    ? inf[1] === '-'
      ? -Infinity
      : Infinity
    : Number(/^nan$/i.test(raw) ? NaN : raw);
  if (!/^nan$/i.test(raw) && (Number.isNaN(value) || raw.trim() === ''))
    throw new Error(`bad value on ${where}`);
  return { name: m[1]!, labels, value };
}

function histogramSeries(f: Family): HistogramSeries[] {
  const byKey = new Map<string, HistogramSeries>();
  for (const { labels, value } of f.samples) {
    const { __name__: name, le, ...own } = labels;
    const key = JSON.stringify(Object.entries(own).sort());
    let s = byKey.get(key);
    if (!s) {
      s = { labels: own, buckets: new Map(), count: NaN, sum: NaN };
      byKey.set(key, s);
    }
    if (name === `${f.name}_bucket`) {
      if (le === undefined) throw new Error(`${f.name}: a bucket without le`);
      s.buckets.set(le, value);
    } else if (name === `${f.name}_count`) s.count = value;
    else if (name === `${f.name}_sum`) s.sum = value;
  }
  for (const s of byKey.values()) {
    const counts = [...s.buckets.values()];
    if (counts.some((c, i) => i > 0 && c < counts[i - 1]!))
      throw new Error(`${f.name} ${JSON.stringify(s.labels)}: buckets not cumulative`);
    if (s.buckets.get('+Inf') !== s.count)
      throw new Error(`${f.name} ${JSON.stringify(s.labels)}: +Inf bucket is not _count`);
  }
  return [...byKey.values()];
}

const matches = (labels: Record<string, string>, wanted: Record<string, string>) =>
  Object.entries(wanted).every(([k, v]) => labels[k] === v);

export class Scrape {
  constructor(readonly families: Map<string, Family>) {}

  family(name: string): Family | undefined {
    return this.families.get(name);
  }

  /** The samples of a counter or gauge whose labels include `labels`. */
  samples(name: string, labels: Record<string, string> = {}): Sample[] {
    return (this.family(name)?.samples ?? []).filter((s) => matches(s.labels, labels));
  }

  /** A counter's or gauge's value; undefined when no sample matches, an error when several do. */
  value(name: string, labels: Record<string, string> = {}): number | undefined {
    const found = this.samples(name, labels);
    if (found.length > 1)
      throw new Error(`${name} ${JSON.stringify(labels)}: ${found.length} samples`);
    return found[0]?.value;
  }

  /** The sum of a counter or gauge over the samples matching `labels`. */
  sum(name: string, labels: Record<string, string> = {}): number {
    return this.samples(name, labels).reduce((n, s) => n + s.value, 0);
  }

  /** A histogram's series whose labels include `labels`. */
  histograms(name: string, labels: Record<string, string> = {}): HistogramSeries[] {
    const f = this.family(name);
    if (f && f.type !== 'histogram') throw new Error(`${name} is a ${f.type}`);
    return (f?.series ?? []).filter((s) => matches(s.labels, labels));
  }

  /** A histogram's observations over the series matching `labels`. */
  count(name: string, labels: Record<string, string> = {}): number {
    return this.histograms(name, labels).reduce((n, s) => n + s.count, 0);
  }
}

/** GETs `url` and parses it; rejects on anything but a 200 in Prometheus' text format. */
export async function scrape(url: string): Promise<Scrape> {
  const response = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`${url}: ${response.status} ${text}`);
  const type = response.headers.get('content-type') ?? '';
  if (!type.startsWith('text/plain; version=0.0.4'))
    throw new Error(`${url}: content-type ${type}`);
  return new Scrape(parsePrometheusText(text));
}

/** Scrapes `url` until `ready` holds for what it read (bounded by `options`); returns that scrape. */
export async function scrapeUntil(
  url: string,
  ready: (s: Scrape) => boolean,
  options: WaitForOptions,
): Promise<Scrape> {
  const found = await waitFor(async () => {
    const s = await scrape(url);
    return ready(s) ? s : undefined;
  }, options);
  return found as Scrape;
}
