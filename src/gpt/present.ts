import { redact } from '../logging/redact.js';
import type { RequestRow } from './requests-store.js';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const parsed = (text: string | null) => (text === null ? null : (JSON.parse(text) as unknown));

/** A request as `gpt:requests --json` prints it (its error masked again, as listings do). */
export function requestJson(r: RequestRow) {
  return {
    id: r.id,
    jobId: r.jobId,
    queue: r.queue,
    model: r.model,
    status: r.status,
    attempts: r.attempts,
    messages: parsed(r.prompt),
    text: r.responseText,
    json: parsed(r.responseJson),
    finishReason: r.finishReason,
    promptTokens: r.promptTokens,
    completionTokens: r.completionTokens,
    latencyMs: r.latencyMs,
    error: r.error === null ? null : redact(r.error),
    metadata: parsed(r.metadata),
    createdAt: iso(r.createdAt),
    finishedAt: iso(r.finishedAt),
  };
}
