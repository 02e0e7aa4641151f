const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * Parses a duration: plain seconds (`90`, `1.5`) or a number with a unit (`500ms`, `30s`,
 * `5m`, `2h`, `1d`). Returns whole milliseconds, or `undefined` when the text is not a duration
 * (or too long to count in milliseconds exactly).
 */
export function parseDuration(text: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/i.exec(text);
  if (!match) return undefined;
  const value = Number(match[1]);
  const unit = (match[2] ?? 's').toLowerCase();
  const ms = Math.round(value * UNITS[unit]!);
  return Number.isSafeInteger(ms) ? ms : undefined;
}

/**
 * Milliseconds as the duration syntax writes them, in the largest unit that holds them exactly:
 * `500ms`, `30s`, `1m`, `90s` stays `90s`, `2h`, `1d`. `parseDuration` reads it back.
 */
export function formatDurationInput(ms: number): string {
  if (ms === 0) return '0s';
  for (const unit of ['d', 'h', 'm', 's'] as const) {
    if (ms % UNITS[unit]! === 0) return `${ms / UNITS[unit]!}${unit}`;
  }
  return `${ms}ms`;
}

/** Formats milliseconds for people: `850ms`, `12.3s`, `4m 05s`, `2h 10m`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)}s`;
  const s = Math.round(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

export const DURATION_HELP = 'seconds (90) or a number with a unit: 500ms, 30s, 5m, 2h, 1d';
