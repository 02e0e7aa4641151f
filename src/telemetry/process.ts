/*
 * One long-running process's metrics (queue:work, longpoll, scheduled:dispatch --watch,
 * schedule:work): prom-client's process metrics, the integrations' counters, and a worker's job
 * counters when the process runs one, served on /metrics. Loaded only with TELEMETRY_ENABLED
 * (src/cli/telemetry.ts imports it when it is on).
 */
import type { Registry } from 'prom-client';
import type { WorkerEventSource } from '../metrics/recorder.js';
import { watchIntegrations } from './channels.js';
import { listenForScrapes } from './endpoint.js';
import { JobMetrics, spec, type WatchOptions } from './job-metrics.js';
import { METRICS } from './names.js';
import { loadPromClient, PROM_CLIENT_INSTALL, PROM_CLIENT_MISSING } from './prom.js';
import type { ProcessTelemetry } from './types.js';

export interface ProcessTelemetryOptions {
  /** The command this process runs, for jobsmith_process_info. */
  command: string;
  /** Where to serve /metrics; no port: nothing is served or counted. */
  port?: number;
  host: string;
  /** How the user sets the port, for messages: `--metrics-port or METRICS_PORT`. */
  portSetting: string;
}

/**
 * Starts counting and serving. Without prom-client, or without a port, telemetry stays off and
 * `notice` says why. A port that cannot be had rejects (MetricsPortError, exit 1) before the
 * process does any work.
 */
export async function startProcessTelemetry(
  options: ProcessTelemetryOptions,
): Promise<ProcessTelemetry> {
  const prom = loadPromClient();
  if (!prom) return off(`${PROM_CLIENT_MISSING}, so telemetry is off. ${PROM_CLIENT_INSTALL}`);
  if (options.port === undefined) {
    return off(
      `TELEMETRY_ENABLED is on but no port is set, so /metrics is not served (set ${options.portSetting}).`,
    );
  }
  const registry: Registry = new prom.Registry();
  prom.collectDefaultMetrics({ register: registry });
  const info = new prom.Gauge({ ...spec(METRICS.processInfo), registers: [registry] });
  info.set({ command: options.command }, 1);
  const unsubscribe = watchIntegrations(prom, registry);
  let jobs: JobMetrics | undefined;
  const endpoint = await listenForScrapes(
    { render: () => registry.metrics(), contentType: registry.contentType },
    { port: options.port, host: options.host, portSetting: options.portSetting, numbered: true },
  ).catch((error: unknown) => {
    unsubscribe();
    throw error;
  });
  return {
    url: endpoint.url,
    watchWorker(worker: WorkerEventSource, watch: WatchOptions) {
      jobs ??= new JobMetrics(registry);
      return jobs.watch(worker, watch);
    },
    async close() {
      unsubscribe();
      await endpoint.close();
    },
  };
}

/** Telemetry that counts nothing and serves nothing; `notice` says why. */
export function off(notice?: string): ProcessTelemetry {
  return { notice, watchWorker: () => () => {}, close: async () => {} };
}
