/*
 * The headers that tie a job to its batch (src/queue/headers.ts): a batch's job carries
 * `jobsmith-batch` (the batch id); a callback job carries `jobsmith-batch-callback`
 * (`<batch id>:<then|catch|finally>`) and is not one of the batch's counted jobs.
 */
import type { BatchCallbackKind } from './store.js';

export const BATCH_HEADER = 'jobsmith-batch';
export const BATCH_CALLBACK_HEADER = 'jobsmith-batch-callback';

const KINDS = new Set<string>(['then', 'catch', 'finally']);

/** A callback header's batch id and kind; undefined when the value is not one. */
export function readCallbackHeader(
  value: string | undefined,
): { batchId: string; kind: BatchCallbackKind } | undefined {
  if (value === undefined) return undefined;
  const at = value.lastIndexOf(':');
  const kind = value.slice(at + 1);
  if (at <= 0 || !KINDS.has(kind)) return undefined;
  return { batchId: value.slice(0, at), kind: kind as BatchCallbackKind };
}

/** The unique key a callback job is pushed with, so that a push redone after a crash stores none. */
export function callbackKey(batchId: string, kind: BatchCallbackKind): string {
  return `batch:${batchId}:${kind}`;
}
