/**
 * A repeat of a stop signal within this long of the first counts as the same request, ms.
 * Docker, `npm run` and some supervisors deliver one stop as two signals a few milliseconds apart
 * (to the process and to its group); taken as two, they skipped the whole --grace drain.
 */
export const REPEAT_WINDOW_MS = 1000;

export const STOP_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGQUIT'] as const;
export type StopSignal = (typeof STOP_SIGNALS)[number];

/** What `listenForStopSignals` needs of a worker. */
export interface StopTarget {
  readonly stopping: boolean;
  stop(reason: 'signal'): void;
  abandon(): void;
}

/**
 * Wires SIGTERM, SIGINT and SIGQUIT to `worker`: the first one drains (running jobs finish
 * within --grace); another one more than `windowMs` after it releases running jobs at once; one
 * within the window is the same request, and `onRepeat` is told. A worker already stopping for
 * another reason (a storage failure) keeps draining on the first signal. Returns the function that
 * removes the listeners.
 */
export function listenForStopSignals(
  worker: StopTarget,
  options: { windowMs?: number; onRepeat?: (signal: StopSignal, windowMs: number) => void } = {},
): () => void {
  const windowMs = options.windowMs ?? REPEAT_WINDOW_MS;
  let firstAt: number | undefined;
  const listeners = STOP_SIGNALS.map((signal) => {
    const listener = () => {
      const now = performance.now();
      if (firstAt === undefined) {
        firstAt = now;
        if (!worker.stopping) worker.stop('signal');
      } else if (now - firstAt < windowMs) {
        options.onRepeat?.(signal, windowMs);
      } else {
        worker.abandon();
      }
    };
    process.on(signal, listener);
    return [signal, listener] as const;
  });
  return () => {
    for (const [signal, listener] of listeners) process.off(signal, listener);
  };
}
