import { redact } from '../logging/redact.js';
import type { ScheduledRow } from './scheduled-store.js';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** A scheduled message as `telegram:scheduled --json` prints it (its error masked again). */
export function scheduledJson(row: ScheduledRow) {
  return {
    id: row.id,
    bot: row.bot,
    chatId: row.chatId,
    method: row.method,
    params: row.params,
    sendAt: iso(row.sendAt),
    status: row.status,
    jobId: row.jobId,
    sentAt: iso(row.sentAt),
    error: row.error === null ? null : redact(row.error),
  };
}
