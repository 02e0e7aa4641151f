/*
 * What notifications and listings say about an alert: its value in the condition's unit, and
 * the text of a firing, resolved or test notification (the same text for every target; mail
 * adds a subject).
 */
import { formatDuration } from '../util/duration.js';
import { BREAKER_VALUES } from './measure.js';
import type { ResolvedAlert, ResolvedCondition } from './settings.js';

export type NoticeKind = 'firing' | 'resolved' | 'test';

/** Telegram's longest message; a notification never comes near it, but a long name could. */
const MAX_TEXT = 4000;

/** A measured value as people read it: `1234`, `23.5%`, `1m 05s`, `open`, `0 live workers`. */
export function formatValue(c: ResolvedCondition, value: number | null): string {
  if (value === null) return 'no data';
  switch (c.type) {
    case 'failureRate':
      return `${(value * 100).toFixed(1).replace(/\.0$/, '')}%`;
    case 'waitTime':
      return formatDuration(value);
    case 'breakerOpen':
      return Object.entries(BREAKER_VALUES).find(([, v]) => v === value)?.[0] ?? `state ${value}`;
    case 'noWorker':
      return `${value} live worker${value === 1 ? '' : 's'}`;
    default:
      return String(Math.round(value));
  }
}

const utc = (ms: number) => `${new Date(ms).toISOString().replace('T', ' ').slice(0, 19)} UTC`;

export interface NoticeFacts {
  /** What the condition measured at the change. */
  value: number | null;
  firingSince: number | null;
  resolvedAt: number | null;
  /** The host of the checker that sends it. */
  host: string;
}

/** The notification's subject (mail) and text (every target). */
export function noticeText(
  kind: NoticeKind,
  alert: ResolvedAlert,
  facts: NoticeFacts,
): { subject: string; text: string } {
  const value = formatValue(alert.condition, facts.value);
  let text: string;
  if (kind === 'firing') {
    const since = facts.firingSince !== null ? ` since ${utc(facts.firingSince)}` : '';
    text = `[FIRING] ${alert.name}: ${alert.description} (now ${value})${since}.`;
  } else if (kind === 'resolved') {
    const lasted =
      facts.firingSince !== null && facts.resolvedAt !== null
        ? ` after ${formatDuration(Math.max(0, facts.resolvedAt - facts.firingSince))}`
        : '';
    text = `[RESOLVED] ${alert.name}: ${alert.description} no longer holds (now ${value}); resolved${lasted}.`;
  } else {
    text = `[TEST] ${alert.name}: a test notification from run alerts:test. It fires when ${alert.description} (now ${value}).`;
  }
  text = `${text}\n— jobsmith alerts on ${facts.host}`;
  if (text.length > MAX_TEXT) text = `${text.slice(0, MAX_TEXT - 1)}…`;
  return { subject: `[jobsmith] ${kind.toUpperCase()}: ${alert.name}`, text };
}
