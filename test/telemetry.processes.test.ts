/**
 * Every long-running command serves /metrics with telemetry on, and the integrations' counters
 * come from their real work: `run longpoll`, `run scheduled:dispatch --watch` and `run
 * schedule:work` against the fake Bot API; Telegram sends and failures of a real sender worker;
 * GPT attempts of a real worker against the fake OpenAI server. SQLite: none of this depends on
 * the queue backend (test/telemetry.backends.test.ts covers the three).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createApp } from './helpers/app.js';
import type { CliProcess } from './helpers/cli.js';
import { scrape, scrapeUntil } from './helpers/prometheus.js';
import { sparePort } from './helpers/spare-port.js';
import { startFakeOpenAi } from './doubles/openai/index.js';
import { createTelegramApp } from './telegram.fixture.js';
import { createSenderApp, message } from './telegram.sender.fixture.js';

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Waits for the process to say where its /metrics is; stops it after the test. */
async function metricsOf(proc: CliProcess): Promise<string> {
  cleanups.push(() => proc.stop('SIGTERM', 5000));
  const [, url] = await proc.waitForOutput(/Metrics at (http:\/\/127\.0\.0\.1:\d+\/metrics)/);
  return url!;
}

describe('telemetry of every long-running command', () => {
  it('longpoll, scheduled:dispatch --watch and schedule:work each serve their process metrics', async () => {
    const t = await createTelegramApp('sqlite');
    cleanups.push(() => t.cleanup());
    const env = { ...t.env, TELEMETRY_ENABLED: 'true' };
    for (const [command, ...args] of [
      ['longpoll', '--lease', '2s'],
      ['scheduled:dispatch', '--watch'],
      ['schedule:work'],
    ] as const) {
      const port = await sparePort();
      const proc = t.app.spawn([command, ...args, '--metrics-port', String(port)], {
        env,
        timeoutMs: 60_000,
      });
      const url = await metricsOf(proc);
      expect(url).toBe(`http://127.0.0.1:${port}/metrics`);
      const s = await scrape(url);
      expect(s.value('jobsmith_process_info', { command }), command).toBe(1);
      expect(s.family('process_cpu_user_seconds_total')?.type, command).toBe('counter');
      expect(s.family('nodejs_eventloop_lag_seconds')?.type, command).toBe('gauge');
      const stopped = await proc.stop('SIGTERM', 10_000);
      expect(stopped.code, `${command}: ${stopped.stderr}`).toBe(0);
    }
  }, 90_000);

  it('scheduled:dispatch without --watch refuses --metrics-port (a single run exits first)', async () => {
    const t = await createTelegramApp('sqlite');
    cleanups.push(() => t.cleanup());
    const result = await t.app.run(['scheduled:dispatch', '--metrics-port', '9464'], {
      env: t.env,
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(
      'Error: --metrics-port needs --watch: a single run exits before a scrape.',
    );
  });

  it('counts Telegram sends, and failures by reason, from a real sender', async () => {
    const t = await createSenderApp('sqlite', { chats: [42, 43, 44] });
    cleanups.push(() => t.cleanup());
    t.api.block(42, 'blocked');
    await t.dispatch([
      message(43, 'one'),
      message(44, 'two'),
      message(42, 'x'),
      message(4242, 'y'),
    ]);
    const sender = t.sender({ TELEMETRY_ENABLED: 'true', METRICS_PORT: String(await sparePort()) });
    const url = await metricsOf(sender);
    const s = await scrapeUntil(
      url,
      (got) => got.sum('jobsmith_jobs_processed_total', { job: 'telegram.send' }) === 4,
      { timeoutMs: 30_000, message: 'the sender finishes the 4 jobs' },
    );
    expect(s.value('jobsmith_telegram_sent_total')).toBe(2);
    expect(s.value('jobsmith_telegram_send_failures_total', { reason: 'blocked' })).toBe(1);
    expect(s.value('jobsmith_telegram_send_failures_total', { reason: 'rejected' })).toBe(1);
    expect(s.sum('jobsmith_telegram_send_failures_total')).toBe(2);
    const job = { queue: 'telegram', job: 'telegram.send' };
    expect(s.value('jobsmith_jobs_processed_total', { ...job, outcome: 'succeeded' })).toBe(2);
    expect(s.value('jobsmith_jobs_processed_total', { ...job, outcome: 'failed' })).toBe(2);
    expect(t.api.sent).toHaveLength(2);
  }, 60_000);

  it('times each GPT attempt, failed and succeeded, from a real worker', async () => {
    const app = await createApp(
      'sqlite',
      `import { defineConfig } from 'jobsmith';
export default defineConfig({ gpt: {}, queues: { gpt: { backoff: 0.05 } } });
`,
    );
    cleanups.push(() => app.cleanup());
    const api = await startFakeOpenAi();
    cleanups.push(() => api.close());
    api.replyNext(1, { kind: 'server-error' });
    const env = {
      OPENAI_API_KEY: api.apiKey,
      OPENAI_BASE_URL: api.baseURL,
      OPENAI_MODEL: 'fake-model',
      TELEMETRY_ENABLED: 'true',
    };
    const pushed = await app.run(['queue:dispatch', 'gpt.complete'], {
      env,
      input: '{"prompt":"one"}\n{"prompt":"two"}\n',
    });
    expect(pushed.code, pushed.stderr).toBe(0);
    const worker = app.spawn(
      [
        'queue:work',
        '--queue',
        'gpt',
        '--sleep',
        '100ms',
        '--metrics-port',
        String(await sparePort()),
      ],
      { env, timeoutMs: 60_000 },
    );
    const url = await metricsOf(worker);
    const s = await scrapeUntil(
      url,
      (got) =>
        got.value('jobsmith_jobs_processed_total', {
          job: 'gpt.complete',
          outcome: 'succeeded',
        }) === 2,
      { timeoutMs: 30_000, message: 'both GPT jobs succeed' },
    );
    expect(s.count('jobsmith_gpt_response_seconds', { outcome: 'succeeded' })).toBe(2);
    expect(s.count('jobsmith_gpt_response_seconds', { outcome: 'failed' })).toBe(1);
    expect(
      s.value('jobsmith_jobs_processed_total', { job: 'gpt.complete', outcome: 'released' }),
    ).toBe(1);
    expect(api.requests).toHaveLength(3);
  }, 60_000);
});
