import { showPayload } from '../jobs/encryption/display.js';
import { redact } from '../logging/redact.js';
import { formatDuration } from '../util/duration.js';
import type { HistoryEntry } from './store.js';

/** A finished job as `queue:history --json` prints it: the job_history columns, snake_case. */
export function historyJson(e: HistoryEntry) {
  return {
    id: e.id,
    connection: e.connection,
    queue: e.queue,
    name: e.name,
    status: e.status,
    attempts: e.attempts,
    payload: showPayload(e.payload),
    result: e.result,
    error: e.error === null ? null : redact(e.error),
    progress: e.progress,
    tags: e.tags,
    dispatched_at: e.dispatchedAt,
    started_at: e.startedAt,
    finished_at: e.finishedAt,
    runtime_ms: e.runtimeMs,
    expires_at: e.expiresAt,
  };
}

/** The table cell for what a job ended with: its result's JSON, or its error's first line. */
export function outcomeCell(e: HistoryEntry, max = 60): string {
  const text =
    e.error !== null
      ? redact(e.error.split('\n', 1)[0] ?? '')
      : e.result === null
        ? ''
        : JSON.stringify(e.result);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

export function runtimeCell(e: HistoryEntry): string {
  return e.runtimeMs === null ? '' : formatDuration(e.runtimeMs);
}
