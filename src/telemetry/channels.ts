/*
 * Integration metrics from node:diagnostics_channel messages: the Telegram sender and the GPT
 * job publish on named channels (their own modules define them), and telemetry subscribes by
 * name. Neither side imports the other, so a worker without telemetry loads none of this, and
 * one without Telegram never loads grammY for it.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { Registry } from 'prom-client';
import { spec } from './job-metrics.js';
import { METRICS, SECONDS_BUCKETS } from './names.js';
import type { Prom } from './prom.js';

/** src/telegram/send-job.ts SEND_CHANNEL: `{ ok: true }` or `{ ok: false, reason }`. */
export const TELEGRAM_SEND_CHANNEL = 'jobsmith:telegram:send';
/** src/gpt/job.ts GPT_ATTEMPT_CHANNEL: `{ outcome, latencyMs }`. */
export const GPT_ATTEMPT_CHANNEL = 'jobsmith:gpt:attempt';

/** The failure reasons the sender publishes; anything else is counted as `other`. */
const SEND_REASONS = new Set(['flood', 'blocked', 'migrated', 'rejected', 'transient']);

/** Counts the integrations' messages into `registry`; returns what unsubscribes. */
export function watchIntegrations(prom: Prom, registry: Registry): () => void {
  const sent = new prom.Counter({ ...spec(METRICS.telegramSent), registers: [registry] });
  const failures = new prom.Counter({
    ...spec(METRICS.telegramFailures),
    registers: [registry],
  });
  const gpt = new prom.Histogram({
    ...spec(METRICS.gptResponse),
    buckets: [...SECONDS_BUCKETS],
    registers: [registry],
  });
  const onSend = (message: unknown) => {
    const m = message as { ok?: boolean; reason?: string };
    if (m.ok) sent.inc();
    else failures.inc({ reason: SEND_REASONS.has(m.reason ?? '') ? m.reason! : 'other' });
  };
  const onGpt = (message: unknown) => {
    const m = message as { outcome?: string; latencyMs?: number };
    if (typeof m.latencyMs !== 'number' || !Number.isFinite(m.latencyMs)) return;
    gpt.observe(
      { outcome: m.outcome === 'succeeded' ? 'succeeded' : 'failed' },
      Math.max(0, m.latencyMs) / 1000,
    );
  };
  subscribe(TELEGRAM_SEND_CHANNEL, onSend);
  subscribe(GPT_ATTEMPT_CHANNEL, onGpt);
  return () => {
    unsubscribe(TELEGRAM_SEND_CHANNEL, onSend);
    unsubscribe(GPT_ATTEMPT_CHANNEL, onGpt);
  };
}
