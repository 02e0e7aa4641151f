/*
 * What a command holds of its process's telemetry. Types only: the CLI imports them with
 * `import type`, which loads nothing, and src/telemetry itself only when telemetry is on.
 */
import type { WorkerEventSource } from '../metrics/recorder.js';
import type { WatchOptions } from './job-metrics.js';

export interface ProcessTelemetry {
  /** Where /metrics is served; undefined when telemetry is off. */
  url?: string;
  /** Why telemetry is off although TELEMETRY_ENABLED is on (no port, no prom-client). */
  notice?: string;
  /** Counts the worker's jobs from now on; returns what stops it. */
  watchWorker(worker: WorkerEventSource, options: WatchOptions): () => void;
  /** Stops serving; call once the process's work has stopped. */
  close(): Promise<void>;
}

export type { WatchOptions };
