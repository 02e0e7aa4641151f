import { useCallback, useEffect, useRef, useState } from 'preact/hooks';

/** How often the pages refresh what they show, in ms. */
export const REFRESH_MS = 5000;

export interface Polled<T> {
  data: T | undefined;
  error: Error | undefined;
  /** Load again now (after an action), without waiting for the next tick. */
  reload: () => Promise<void>;
}

/**
 * `load()` now and every REFRESH_MS while the tab is visible, without reloading the page. The
 * last data stays on screen while the next load runs; a load is never started while one is
 * running. `key` changes (new filters, another page) load at once and drop the old data.
 */
export function usePoll<T>(
  load: () => Promise<T>,
  key: string,
  intervalMs = REFRESH_MS,
): Polled<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<Error | undefined>(undefined);
  const loadRef = useRef(load);
  loadRef.current = load;
  const running = useRef<Promise<void> | null>(null);
  const generation = useRef(0);

  const reload = useCallback(async () => {
    if (running.current) await running.current;
    const mine = generation.current;
    const task = loadRef.current().then(
      (value) => {
        if (mine !== generation.current) return;
        setData(value);
        setError(undefined);
      },
      (failure: unknown) => {
        if (mine !== generation.current) return;
        setError(failure instanceof Error ? failure : new Error(String(failure)));
      },
    );
    running.current = task;
    try {
      await task;
    } finally {
      if (running.current === task) running.current = null;
    }
  }, []);

  useEffect(() => {
    generation.current += 1;
    setData(undefined);
    setError(undefined);
    void reload();
    const timer = setInterval(() => {
      if (document.visibilityState === 'visible' && !running.current) void reload();
    }, intervalMs);
    return () => clearInterval(timer);
  }, [key, intervalMs, reload]);

  return { data, error, reload };
}
