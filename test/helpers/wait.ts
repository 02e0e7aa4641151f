export interface WaitForOptions {
  /** Give up after this long. Default 10000. */
  timeoutMs?: number;
  /** Pause between attempts. Default 50. */
  intervalMs?: number;
  /** Used as the error message on timeout. */
  message?: string;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Calls `fn` until it returns (or resolves to) a truthy value and returns that value.
 * A throwing/rejecting `fn` counts as "not yet" (so `expect(...)` inside works); its
 * last error is attached as `cause` and shown in the timeout error. Bounded: throws
 * after `timeoutMs`, even if a single call of `fn` hangs.
 */
export async function waitFor<T>(
  fn: () => T | Promise<T>,
  { timeoutMs = 10_000, intervalMs = 50, message }: WaitForOptions = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  let lastValue: T | undefined;
  let attempts = 0;

  for (;;) {
    const remaining = deadline - Date.now();
    if (remaining <= 0 && attempts > 0) break;
    attempts += 1;
    let timer: NodeJS.Timeout | undefined;
    try {
      const hung = Symbol('hung');
      const result = await Promise.race([
        Promise.resolve().then(fn),
        new Promise<typeof hung>((resolve) => {
          timer = setTimeout(() => resolve(hung), Math.max(remaining, 0));
        }),
      ]);
      if (result === hung) {
        lastError = new Error(`the last attempt did not settle within ${timeoutMs} ms`);
        break;
      }
      if (result) return result as T;
      lastValue = result as T;
      lastError = undefined;
    } catch (err) {
      lastError = err;
    } finally {
      clearTimeout(timer);
    }
    await sleep(Math.min(intervalMs, Math.max(0, deadline - Date.now())));
  }

  const base = message ?? 'waitFor: condition was not met';
  const detail =
    lastError !== undefined
      ? `last error: ${lastError instanceof Error ? lastError.message : String(lastError)}`
      : `last value: ${String(lastValue)}`;
  throw new Error(`${base} (timed out after ${timeoutMs} ms, ${attempts} attempts; ${detail})`, {
    cause: lastError,
  });
}
