/**
 * A handler's return value as job_history keeps it: JSON text, or a marker that says why it is
 * not there. Never throws: a value JSON cannot hold (a BigInt, a cycle, a throwing toJSON) or
 * one too large to keep must not cost the job its outcome, nor the worker its run.
 */

/** The most JSON text kept for one result: a larger one is replaced by a marker. */
export const MAX_RESULT_CHARS = 64 * 1024;

/** null when the handler returned nothing (undefined, or a function, a symbol...). */
export function resultJson(value: unknown): string | null {
  if (value === undefined) return null;
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    return JSON.stringify({ $unserializable: `The result is not JSON: ${why}` });
  }
  if (text === undefined) return null;
  if (text.length > MAX_RESULT_CHARS)
    return JSON.stringify({
      $truncated: `The result's JSON is ${text.length} characters, over the ${MAX_RESULT_CHARS} kept.`,
    });
  return text;
}
