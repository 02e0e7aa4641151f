/**
 * The parts of telemetry below the commands, in this process with the real prom-client: the
 * metric names and their documentation, the worker's counters from its events, metrics:serve's
 * gauges from a snapshot, the integrations' channels, the endpoint, duties, and the examples
 * (Grafana, Prometheus) against the metrics that exist. Also the test parser itself.
 */
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { GPT_ATTEMPT_CHANNEL as GPT_PUBLISHER } from '../src/gpt/job.js';
import { SEND_CHANNEL } from '../src/telegram/send-job.js';
import {
  GPT_ATTEMPT_CHANNEL,
  TELEGRAM_SEND_CHANNEL,
  watchIntegrations,
} from '../src/telemetry/channels.js';
import { periodic } from '../src/telemetry/duties.js';
import { listenForScrapes, MetricsPortError } from '../src/telemetry/endpoint.js';
import { JobMetrics } from '../src/telemetry/job-metrics.js';
import { METRICS, SECONDS_BUCKETS } from '../src/telemetry/names.js';
import { loadPromClient, type Prom } from '../src/telemetry/prom.js';
import { QueueGauges } from '../src/telemetry/queue-gauges.js';
import { CounterFamily, HistogramFamily } from '../src/telemetry/series.js';
import type { QueueSnapshot } from '../src/snapshot/snapshot.js';
import { REPO_ROOT } from './helpers/cli.js';
import { parsePrometheusText, Scrape, scrape } from './helpers/prometheus.js';
import { sparePort } from './helpers/spare-port.js';

const prom = loadPromClient() as Prom;
const read = async (registry: { metrics(): Promise<string> }) =>
  new Scrape(parsePrometheusText(await registry.metrics()));

const closers: Array<() => unknown> = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

describe('metric names', () => {
  it('are Prometheus style: jobsmith_ first, counters in _total, times in _seconds, bounded labels', () => {
    const bounded = ['queue', 'job', 'outcome', 'state', 'reason', 'name', 'limit', 'command'];
    for (const m of Object.values(METRICS)) {
      expect(m.name).toMatch(/^jobsmith_[a-z_]+$/);
      if (m.type === 'counter') expect(m.name, m.name).toMatch(/_total$/);
      else expect(m.name, m.name).not.toMatch(/_total$/);
      if (m.type === 'histogram') expect(m.name, m.name).toMatch(/_seconds$/);
      for (const label of m.labels) expect(bounded, m.name).toContain(label);
    }
    expect(SECONDS_BUCKETS.at(-1)).toBe(120);
  });

  it('docs/telemetry.md lists every metric with its type, labels and source, and no other', () => {
    const doc = readFileSync(path.join(REPO_ROOT, 'docs/telemetry.md'), 'utf8');
    const rows = doc
      .split('\n')
      .filter((line) => line.startsWith('| `jobsmith_'))
      .map((line) => line.split('|').map((cell) => cell.trim()));
    const documented = rows.map(([, name, type, labels, source]) => ({
      name: name!.replace(/`/g, ''),
      type,
      labels: labels === '' ? [] : labels!.replace(/`/g, '').split(', '),
      source,
    }));
    expect(documented).toEqual(
      Object.values(METRICS).map((m) => ({
        name: m.name,
        type: m.type,
        labels: [...m.labels],
        source: m.source,
      })),
    );
  });

  it('the Grafana dashboard and the Prometheus example use only metrics that exist', () => {
    const dashboard = JSON.parse(
      readFileSync(path.join(REPO_ROOT, 'examples/grafana/jobsmith.json'), 'utf8'),
    ) as { panels: Array<{ targets?: Array<{ expr: string }> }> };
    const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
    expect(exprs.length).toBeGreaterThan(15);
    const used = new Set(
      exprs.flatMap((e) =>
        [...e.matchAll(/\b(jobsmith_[a-z_]+)/g)].map((m) =>
          m[1]!.replace(/_(bucket|count|sum)$/, ''),
        ),
      ),
    );
    const known = new Set<string>(Object.values(METRICS).map((m) => m.name));
    expect([...used].filter((name) => !known.has(name))).toEqual([]);
    // Every metric a person watches is on it (the refresh's own bookkeeping aside).
    for (const m of Object.values(METRICS))
      if (!/refresh_(duration|failures)/.test(m.name)) expect(used, m.name).toContain(m.name);
    const config = readFileSync(path.join(REPO_ROOT, 'examples/prometheus.yml'), 'utf8');
    expect(config).toContain("targets: ['127.0.0.1:9464']");
  });
});

describe("a worker's job metrics", () => {
  const job = (name: string, queue = 'default') => ({
    id: '1',
    name,
    queue,
    payload: '{}',
    attempts: 1,
    maxTries: 3,
    readyAt: Date.now() - 2000,
  });

  it('counts each event as its outcome, times only the runs, and names an unknown job (unknown)', async () => {
    const registry = new prom.Registry();
    const worker = new EventEmitter();
    const known = new Set(['a', 'b']);
    const stop = new JobMetrics(registry).watch(worker, {
      known: (name) => known.has(name),
      expected: [{ queue: 'default', job: 'b' }],
    });
    const error = new Error('x');
    worker.emit('job:processing', { job: job('a') });
    worker.emit('job:processed', { job: job('a'), durationMs: 1500 });
    worker.emit('job:failed', { job: job('a'), durationMs: 30, reason: 'error', error });
    worker.emit('job:failed', { job: job('a'), durationMs: 0, reason: 'max_attempts', error });
    worker.emit('job:released', {
      job: job('a'),
      durationMs: 10,
      delayMs: 1,
      error,
      refunded: false,
    });
    worker.emit('job:released', {
      job: job('a'),
      durationMs: 1,
      delayMs: 1,
      error,
      refunded: true,
    });
    worker.emit('job:cancelled', { job: job('a'), durationMs: 5, reason: 'by hand' });
    worker.emit('job:skipped', { job: job('a'), durationMs: 1 });
    worker.emit('job:abandoned', { job: job('a'), durationMs: 1, error });
    worker.emit('job:lost', { job: job('a') });
    worker.emit('job:processed', { job: job('stray.name', 'other'), durationMs: 1 });
    const s = await read(registry);
    const count = (outcome: string, name = 'a') =>
      s.value('jobsmith_jobs_processed_total', { job: name, outcome });
    expect(
      [
        'succeeded',
        'failed',
        'released',
        'deferred',
        'cancelled',
        'skipped',
        'abandoned',
        'lost',
      ].map((o) => count(o)),
    ).toEqual([1, 2, 1, 1, 1, 1, 1, 1]);
    // Ran: processed, the failure by error, the retried release, the cancel.
    const [runs] = s.histograms('jobsmith_job_duration_seconds', { queue: 'default', job: 'a' });
    expect(runs!.count).toBe(4);
    expect(runs!.sum).toBeCloseTo(1.545, 6);
    expect(runs!.buckets.get('1')).toBe(3);
    expect(s.count('jobsmith_job_wait_seconds', { queue: 'default' })).toBe(1);
    expect(s.histograms('jobsmith_job_wait_seconds')[0]!.sum).toBeGreaterThanOrEqual(2);
    expect(count('succeeded', '(unknown)')).toBe(1);
    expect(s.samples('jobsmith_jobs_processed_total', { job: 'stray.name' })).toEqual([]);
    // Started at 0, before b ever ran.
    expect([count('succeeded', 'b'), count('failed', 'b')]).toEqual([0, 0]);
    stop();
    worker.emit('job:processed', { job: job('a'), durationMs: 1 });
    expect(
      (await read(registry)).value('jobsmith_jobs_processed_total', {
        job: 'a',
        outcome: 'succeeded',
      }),
    ).toBe(1);
  });
});

describe('the hot-path series', () => {
  it("render exactly as prom-client's own Counter and Histogram do, for the same observations", async () => {
    const spec = {
      name: 'x_seconds',
      help: 'Help with "quotes" and \\ a backslash',
      labels: ['q', 'j'],
    };
    const ours = new prom.Registry();
    const theirs = new prom.Registry();
    const counter = new CounterFamily({ ...spec, name: 'x_total' });
    const histogram = new HistogramFamily(spec, SECONDS_BUCKETS);
    ours.registerMetric(counter as never);
    ours.registerMetric(histogram as never);
    const refCounter = new prom.Counter({
      name: 'x_total',
      help: spec.help,
      labelNames: ['q', 'j'],
      registers: [theirs],
    });
    const refHistogram = new prom.Histogram({
      name: 'x_seconds',
      help: spec.help,
      labelNames: ['q', 'j'],
      buckets: [...SECONDS_BUCKETS],
      registers: [theirs],
    });
    const values = [0, 0.005, 0.0051, 0.3, 1, 119.9, 120, 120.5, 5000];
    for (const [q, j] of [
      ['a', 'x'],
      ['b', 'y"\nz'],
    ] as const) {
      for (const v of values) {
        counter.series(q, j).value += 2;
        refCounter.inc({ q, j }, 2);
        histogram.series(q, j).observe(v);
        refHistogram.observe({ q, j }, v);
      }
    }
    counter.series('c', 'zero');
    refCounter.inc({ q: 'c', j: 'zero' }, 0);
    expect(await ours.metrics()).toBe(await theirs.metrics());
  });
});

describe('metrics:serve gauges', () => {
  const snapshot = (over: Partial<QueueSnapshot> = {}): QueueSnapshot => ({
    at: 1_700_000_000_000,
    durationMs: 12,
    queues: [
      { queue: 'default', pending: 3, delayed: 2, reserved: 1, failed: 4, paused: false },
      { queue: 'mail', pending: 0, delayed: 0, reserved: 0, failed: 0, paused: true },
    ],
    breakers: [{ name: 'openai', state: 'open' }],
    limits: [{ name: 'telegram.chat', backlogSeconds: 1.5 }],
    ...over,
  });

  it('sets every gauge from a snapshot; a queue that empties stays at 0, a breaker gone goes', async () => {
    const registry = new prom.Registry();
    const gauges = new QueueGauges(prom, registry);
    gauges.apply(snapshot());
    let s = await read(registry);
    expect(s.value('jobsmith_queue_size', { queue: 'default', state: 'pending' })).toBe(3);
    expect(s.value('jobsmith_queue_size', { queue: 'default', state: 'delayed' })).toBe(2);
    expect(s.value('jobsmith_queue_size', { queue: 'default', state: 'reserved' })).toBe(1);
    expect(s.value('jobsmith_failed_jobs', { queue: 'default' })).toBe(4);
    expect(s.value('jobsmith_queue_paused', { queue: 'mail' })).toBe(1);
    expect(s.value('jobsmith_breaker_state', { name: 'openai' })).toBe(2);
    expect(s.value('jobsmith_rate_limit_backlog_seconds', { limit: 'telegram.chat' })).toBe(1.5);
    expect(s.value('jobsmith_metrics_refreshed_timestamp_seconds')).toBe(1_700_000_000);
    expect(s.value('jobsmith_metrics_refresh_duration_seconds')).toBe(0.012);
    expect(s.value('jobsmith_metrics_refresh_failures_total')).toBe(0);

    gauges.apply(
      snapshot({
        queues: [{ queue: 'mail', pending: 1, delayed: 0, reserved: 0, failed: 0, paused: false }],
        breakers: [{ name: 'other', state: 'half-open' }],
        limits: [],
      }),
    );
    gauges.failedRefresh();
    s = await read(registry);
    expect(s.value('jobsmith_queue_size', { queue: 'default', state: 'pending' })).toBe(0);
    expect(s.value('jobsmith_failed_jobs', { queue: 'default' })).toBe(0);
    expect(s.value('jobsmith_queue_paused', { queue: 'mail' })).toBe(0);
    expect(s.samples('jobsmith_breaker_state')).toEqual([{ labels: { name: 'other' }, value: 1 }]);
    expect(s.samples('jobsmith_rate_limit_backlog_seconds')).toEqual([]);
    expect(s.value('jobsmith_metrics_refresh_failures_total')).toBe(1);
  });
});

describe("the integrations' channels", () => {
  it('are the channels the Telegram sender and the GPT job publish on', () => {
    expect(SEND_CHANNEL.name).toBe(TELEGRAM_SEND_CHANNEL);
    expect(GPT_PUBLISHER.name).toBe(GPT_ATTEMPT_CHANNEL);
  });

  it('counts sends by reason (an unknown one as other) and times GPT attempts', async () => {
    const registry = new prom.Registry();
    closers.push(watchIntegrations(prom, registry));
    SEND_CHANNEL.publish({ ok: true });
    SEND_CHANNEL.publish({ ok: true });
    SEND_CHANNEL.publish({ ok: false, reason: 'flood' });
    SEND_CHANNEL.publish({ ok: false, reason: 'something new' });
    GPT_PUBLISHER.publish({ outcome: 'succeeded', latencyMs: 1200 });
    GPT_PUBLISHER.publish({ outcome: 'TimeoutError', latencyMs: 30_000 });
    GPT_PUBLISHER.publish({ outcome: 'succeeded' });
    const s = await read(registry);
    expect(s.value('jobsmith_telegram_sent_total')).toBe(2);
    expect(s.value('jobsmith_telegram_send_failures_total', { reason: 'flood' })).toBe(1);
    expect(s.value('jobsmith_telegram_send_failures_total', { reason: 'other' })).toBe(1);
    const [ok] = s.histograms('jobsmith_gpt_response_seconds', { outcome: 'succeeded' });
    expect([ok!.count, ok!.sum]).toEqual([1, 1.2]);
    const [failed] = s.histograms('jobsmith_gpt_response_seconds', { outcome: 'failed' });
    expect([failed!.count, failed!.buckets.get('20'), failed!.buckets.get('60')]).toEqual([
      1, 0, 1,
    ]);
  });

  it('stop counting once unsubscribed', async () => {
    const registry = new prom.Registry();
    watchIntegrations(prom, registry)();
    SEND_CHANNEL.publish({ ok: true });
    expect((await read(registry)).value('jobsmith_telegram_sent_total')).toBe(0);
  });
});

describe('the endpoint', () => {
  it('serves /metrics (GET and HEAD) and nothing else; a render that throws is a 500', async () => {
    let fail = false;
    const endpoint = await listenForScrapes(
      {
        render: async () => {
          if (fail) throw new Error('broken registry');
          return '# TYPE x gauge\nx 1\n';
        },
        contentType: 'text/plain; version=0.0.4; charset=utf-8',
      },
      { port: await sparePort(), host: '127.0.0.1', portSetting: '--port' },
    );
    closers.push(() => endpoint.close());
    expect((await scrape(endpoint.url)).value('x')).toBe(1);
    const head = await fetch(endpoint.url, { method: 'HEAD' });
    expect([head.status, await head.text()]).toEqual([200, '']);
    const post = await fetch(endpoint.url, { method: 'POST' });
    expect([post.status, post.headers.get('allow')]).toEqual([405, 'GET, HEAD']);
    const other = await fetch(endpoint.url.replace('/metrics', '/'));
    expect([other.status, await other.text()]).toEqual([
      404,
      'Not found: metrics are at /metrics\n',
    ]);
    fail = true;
    const broken = await fetch(endpoint.url);
    expect([broken.status, await broken.text()]).toEqual([
      500,
      'Could not render the metrics: broken registry\n',
    ]);
  });

  it('a port in use, or a host that is not this machine, is a MetricsPortError that says so', async () => {
    const held = net.createServer().listen(0, '127.0.0.1');
    await new Promise((r) => held.once('listening', r));
    closers.push(() => held.close());
    const port = (held.address() as net.AddressInfo).port;
    const target = { render: async () => '', contentType: 'text/plain' };
    const taken = listenForScrapes(target, { port, host: '127.0.0.1', portSetting: '--port' });
    await expect(taken).rejects.toBeInstanceOf(MetricsPortError);
    await expect(taken).rejects.toMatchObject({
      exitCode: 1,
      message: `Cannot serve /metrics: port ${port} on 127.0.0.1 is already in use by another process.`,
    });
    const away = listenForScrapes(target, { port, host: '192.0.2.1', portSetting: '--port' });
    await expect(away).rejects.toMatchObject({
      message: 'Cannot serve /metrics: 192.0.2.1 is not an address of this machine.',
    });
  });
});

describe('duties', () => {
  it('periodic() runs at once, then after each run ends, never two at a time; stop() waits for the run', async () => {
    let active = 0;
    let most = 0;
    let runs = 0;
    let release: () => void = () => {};
    const duty = periodic('slow', 5, async () => {
      runs++;
      active++;
      most = Math.max(most, active);
      await new Promise<void>((r) => (release = r));
      active--;
    });
    const warnings: unknown[] = [];
    duty.start({
      app: undefined as never,
      log: { warn: (...a: unknown[]) => warnings.push(a) } as never,
    });
    expect(runs).toBe(1);
    await new Promise((r) => setTimeout(r, 30));
    expect(runs).toBe(1); // still running: the next waits for it
    release();
    await new Promise((r) => setTimeout(r, 30));
    expect(runs).toBe(2);
    const stopped = Promise.resolve(duty.stop());
    let done = false;
    void stopped.then(() => (done = true));
    await new Promise((r) => setTimeout(r, 10));
    expect(done).toBe(false);
    release();
    await stopped;
    await new Promise((r) => setTimeout(r, 30));
    expect([runs, most, warnings]).toEqual([2, 1, []]);
  });

  it('a run that throws is logged and the next runs on time', async () => {
    let runs = 0;
    const warnings: Array<[Record<string, unknown>, string]> = [];
    const duty = periodic('flaky', 5, async () => {
      runs++;
      throw new Error('nope');
    });
    duty.start({
      app: undefined as never,
      log: { warn: (o: Record<string, unknown>, m: string) => warnings.push([o, m]) } as never,
    });
    await new Promise((r) => setTimeout(r, 40));
    await duty.stop();
    expect(runs).toBeGreaterThan(1);
    expect(warnings[0]).toEqual([{ duty: 'flaky', error: 'nope' }, 'flaky failed']);
  });
});

describe('the test parser', () => {
  it('reads escaped labels, NaN and Inf, and histograms by label set', () => {
    const s = new Scrape(
      parsePrometheusText(
        [
          '# HELP g A gauge\\nwith a newline',
          '# TYPE g gauge',
          'g{a="x\\"y\\\\z\\n",b="2"} NaN',
          'g{a="plain"} +Inf',
          '# TYPE h histogram',
          'h_bucket{le="1",q="a"} 1',
          'h_bucket{le="+Inf",q="a"} 2',
          'h_sum{q="a"} 3.5',
          'h_count{q="a"} 2',
          'h_bucket{le="1",q="b"} 0',
          'h_bucket{le="+Inf",q="b"} 0',
          'h_sum{q="b"} 0',
          'h_count{q="b"} 0',
          '',
        ].join('\n'),
      ),
    );
    expect(s.family('g')!.help).toBe('A gauge\nwith a newline');
    expect(s.value('g', { a: 'x"y\\z\n' })).toBeNaN();
    expect(s.value('g', { a: 'plain' })).toBe(Infinity);
    expect(s.histograms('h').map((h) => [h.labels, h.count, h.sum])).toEqual([
      [{ q: 'a' }, 2, 3.5],
      [{ q: 'b' }, 0, 0],
    ]);
  });

  it('refuses what a scraper would', () => {
    const bad = [
      'x{a="1"',
      'x one',
      'x{a="1",a="2"} 1',
      '# TYPE x counter\nx -1',
      '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_count 1',
      '# TYPE h histogram\nh_bucket{le="+Inf"} 1\nh_count 2',
      '# TYPE x gauge\n# TYPE x gaug',
    ];
    for (const text of bad) expect(() => parsePrometheusText(text), text).toThrow();
  });
});
