/*
 * How `run alerts:check`, `run alerts:list` and `schedule:work` show alerts: table cells, the
 * lines that say what a check changed, and the --json objects (snake_case, ISO times).
 */
import { paint } from '../cli/output.js';
import { redact } from '../logging/redact.js';
import { formatDuration, formatDurationInput } from '../util/duration.js';
import type { AlertResult } from './check.js';
import { formatValue } from './messages.js';
import type { SentNotification } from './notify.js';
import type { ResolvedAlert } from './settings.js';
import type { AlertRow } from './store.js';
import { shownTarget } from './targets.js';

const iso = (ms: number | null | undefined) =>
  ms === null || ms === undefined ? null : new Date(ms).toISOString();

export function stateCell(row: AlertRow | undefined): string {
  if (!row) return paint.dim('never checked');
  if (row.state === 'firing') return paint.red('FIRING');
  if (row.state === 'pending') return paint.yellow('pending');
  return paint.green('ok');
}

/**
 * `12m 05s` since it started firing (or pending); empty when ok. A pending alert held back by
 * its cooldown (a notice went out less than `cooldown` ago) says until when, or nothing would
 * tell why an alert without `for` stays pending.
 */
export function sinceCell(
  row: AlertRow | undefined,
  now: number,
  alert?: Pick<ResolvedAlert, 'cooldownMs'>,
): string {
  if (!row) return '';
  const since = row.state === 'firing' ? row.firingSince : row.pendingSince;
  if (row.state === 'ok' || since === null) return '';
  const cell = `${formatDuration(Math.max(0, now - since))} (${iso(since)})`;
  const cooledAt =
    row.state === 'pending' && alert && row.lastNotifiedAt !== null
      ? row.lastNotifiedAt + alert.cooldownMs
      : undefined;
  return cooledAt !== undefined && cooledAt > now
    ? `${cell}; cooldown until ${iso(cooledAt)}`
    : cell;
}

export function valueCell(alert: ResolvedAlert, result: AlertResult): string {
  if (result.error) return paint.red('error');
  return formatValue(alert.condition, result.reading?.value ?? null);
}

/** `telegram.send job 12 on telegram for telegram:42` per notification. */
function sentText(sent: SentNotification[]): string {
  return sent
    .map(
      (s) =>
        `${s.job} job ${s.id} on ${s.queue} for ${s.target}${s.deduplicated ? ' (already queued)' : ''}`,
    )
    .join('; ');
}

/**
 * What a check changed or failed at for one alert, as a line; undefined when it changed
 * nothing worth a line (the value moved, or the alert went pending or back to ok).
 */
export function changeLine(result: AlertResult): string | undefined {
  const { alert } = result;
  const parts: string[] = [];
  if (result.error)
    parts.push(`${alert.name}: ${paint.red('not checked')}: ${result.error.message}`);
  if (result.event === 'fired')
    parts.push(`${alert.name} ${paint.red('FIRED')}: ${alert.description}`);
  if (result.event === 'resolved')
    parts.push(`${alert.name} ${paint.green('RESOLVED')}: ${alert.description} no longer holds`);
  if (result.resent)
    parts.push(`${alert.name}: queueing the ${result.resent} notification an earlier check left`);
  if (result.notified) parts.push(`  notified: ${sentText(result.notified)}`);
  if (result.notifyError)
    parts.push(
      `  ${paint.red('notification not queued')} (a later check tries again): ${result.notifyError.message}`,
    );
  return parts.length > 0 ? redact(parts.join('\n')) : undefined;
}

export function resultJson(result: AlertResult) {
  const { alert, row } = result;
  return {
    name: alert.name,
    state: row.state,
    value: result.reading?.value ?? null,
    value_text: result.error ? null : formatValue(alert.condition, result.reading?.value ?? null),
    holds: result.reading?.holds ?? null,
    condition: alert.description,
    pending_since: iso(row.pendingSince),
    firing_since: row.state === 'firing' ? iso(row.firingSince) : null,
    last_notified_at: iso(row.lastNotifiedAt),
    // What this check changed: pending, fired, resolved, cleared; null for nothing.
    event: result.event ?? null,
    // A notice an earlier check left unsent (firing or resolved), queued by this one.
    resent: result.resent ?? null,
    notified: (result.notified ?? []).map((s) => ({
      target: s.target,
      job: s.job,
      queue: s.queue,
      id: s.id,
      deduplicated: s.deduplicated,
    })),
    notify_error: result.notifyError ? redact(result.notifyError.message) : null,
    error: result.error ? redact(result.error.message) : null,
  };
}

/** One configured alert and its stored state, as `alerts:list --json` shows it. */
export function alertJson(alert: ResolvedAlert, row: AlertRow | undefined) {
  return {
    name: alert.name,
    condition: alert.description,
    notify: alert.targets.map((t) => shownTarget(t.text)),
    for_ms: alert.condition.forMs,
    cooldown_ms: alert.cooldownMs,
    state: row?.state ?? null,
    last_value: row?.lastValue ?? null,
    last_value_text: row ? formatValue(alert.condition, row.lastValue) : null,
    pending_since: iso(row?.pendingSince),
    firing_since: iso(row?.firingSince),
    resolved_at: iso(row?.resolvedAt),
    last_notified_at: iso(row?.lastNotifiedAt),
    checked_at: iso(row?.updatedAt),
  };
}

export const cooldownCell = (alert: ResolvedAlert) => formatDurationInput(alert.cooldownMs);

/** Writes what a check changed or failed at to the log file (pino), one entry per alert. */
export function logResult(
  log: {
    info(o: object, m: string): void;
    warn(o: object, m: string): void;
    error(o: object, m: string): void;
  },
  result: AlertResult,
): void {
  const data = {
    alert: result.alert.name,
    state: result.row.state,
    value: result.reading?.value ?? null,
    ...(result.notified ? { notified: result.notified.map((s) => `${s.job}#${s.id}`) } : {}),
  };
  if (result.error) log.error({ ...data, err: result.error }, 'alert not checked');
  if (result.event === 'fired') log.warn(data, 'alert fired');
  if (result.event === 'resolved') log.info(data, 'alert resolved');
  if (result.notifyError)
    log.error({ ...data, err: result.notifyError }, 'alert notification not queued');
}
