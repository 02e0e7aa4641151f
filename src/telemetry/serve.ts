/*
 * `run metrics:serve`: the queue-wide gauges (queue sizes by state, failed jobs, pauses,
 * breakers, rate-limit backlogs) from a cache that a reader thread refreshes every few seconds,
 * plus this process's own metrics, on /metrics; and the duties other modules run here. A scrape
 * reads memory only: never a count of a table (asynq's collector, which ran its Redis scripts on
 * every scrape, blocked Redis in production).
 */
import type { App } from '../cli/app.js';
import { ConfigError } from '../errors.js';
import { METRICS_SERVE_DUTIES, type ServeDuty } from './duties.js';
import { listenForScrapes } from './endpoint.js';
import { spec } from './job-metrics.js';
import { METRICS } from './names.js';
import { loadPromClient, PROM_CLIENT_INSTALL, PROM_CLIENT_MISSING } from './prom.js';
import { QueueGauges } from './queue-gauges.js';
import { SnapshotRefresher } from '../snapshot/refresher.js';

export interface MetricsServeOptions {
  port: number;
  host: string;
  /** Between the end of one read of the storage and the start of the next, in ms. */
  refreshMs: number;
  /** The queue connection whose queues are read (QUEUE_CONNECTION by default). */
  connection?: string;
  /** The --config path, for the reader thread's own App. */
  config?: string;
  /** How the user sets the port, for messages. */
  portSetting: string;
  /** Duties to run besides METRICS_SERVE_DUTIES' (tests, embedding). */
  duties?: ServeDuty[];
}

export interface MetricsServer {
  url: string;
  /** The duties started, by name. */
  duties: string[];
  /** Stops the duties, the endpoint and the reader, in that order. */
  close(): Promise<void>;
}

/**
 * Reads the storage once (a failure rejects: nothing is served), then serves. Rejects with
 * MetricsPortError when the port cannot be had, ConfigError without prom-client.
 */
export async function startMetricsServer(
  app: App,
  options: MetricsServeOptions,
): Promise<MetricsServer> {
  const prom = loadPromClient();
  if (!prom) {
    throw new ConfigError(`Cannot serve metrics: ${PROM_CLIENT_MISSING}.`, {
      hint: PROM_CLIENT_INSTALL,
    });
  }
  const log = app.log();
  const registry = new prom.Registry();
  prom.collectDefaultMetrics({ register: registry });
  new prom.Gauge({ ...spec(METRICS.processInfo), registers: [registry] }).set(
    { command: 'metrics:serve' },
    1,
  );
  const gauges = new QueueGauges(prom, registry);
  const refresher = new SnapshotRefresher(
    {
      cwd: app.cwd,
      config: options.config,
      connection: options.connection,
      refreshMs: options.refreshMs,
    },
    {
      snapshot: (s) => gauges.apply(s),
      failed: (error) => {
        gauges.failedRefresh();
        log.warn({ error: error.message }, 'metrics:serve could not read the storage; retrying');
      },
    },
  );
  await refresher.start();
  const endpoint = await listenForScrapes(
    { render: () => registry.metrics(), contentType: registry.contentType },
    { port: options.port, host: options.host, portSetting: options.portSetting },
  ).catch(async (error: unknown) => {
    await refresher.stop();
    throw error;
  });
  const duties = [...(options.duties ?? [])];
  const started: ServeDuty[] = [];
  const close = async () => {
    for (const duty of started) await duty.stop();
    await endpoint.close();
    await refresher.stop();
  };
  try {
    for (const entry of METRICS_SERVE_DUTIES) {
      const duty = await entry.load(app);
      if (duty) duties.push(duty);
    }
    for (const duty of duties) {
      await duty.start({ app, log });
      started.push(duty);
    }
  } catch (error) {
    await close();
    throw error;
  }
  log.info(
    { url: endpoint.url, refreshMs: options.refreshMs, duties: duties.map((d) => d.name) },
    'metrics:serve started',
  );
  return {
    url: endpoint.url,
    duties: duties.map((d) => d.name),
    close,
  };
}
