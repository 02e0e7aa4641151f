/*
 * The switch between a long-running command and its telemetry. With TELEMETRY_ENABLED off
 * (the default) nothing of src/telemetry or prom-client loads and no port opens: the command
 * gets a telemetry that does nothing. On, src/telemetry/process.ts loads (import()) and serves
 * /metrics on --metrics-port or METRICS_PORT.
 */
import type { ProcessTelemetry } from '../telemetry/types.js';
import type { App } from './app.js';
import { intFlag, Option } from './command.js';
import { paint } from './output.js';

/** How a user sets a process's metrics port, for messages. */
export const METRICS_PORT_SETTING = '--metrics-port or METRICS_PORT';

/** `--metrics-port`, the same on every long-running command. */
export function metricsPortOption(): Option {
  return new Option(
    '--metrics-port <port>',
    'serve /metrics on this port when TELEMETRY_ENABLED is on (default: METRICS_PORT)',
  ).argParser(intFlag('--metrics-port', { min: 1, max: 65535 }));
}

const OFF: ProcessTelemetry = { watchWorker: () => () => {}, close: async () => {} };

/**
 * Starts this process's telemetry and says where /metrics is (or why not), as a line or, with
 * `json`, a JSON line, and in the log. Rejects with MetricsPortError (exit 1) when the port
 * cannot be had: call it before the command starts its work.
 */
export async function startTelemetry(
  app: App,
  options: { command: string; port?: number; json: boolean },
): Promise<ProcessTelemetry> {
  if (!app.env.TELEMETRY_ENABLED) {
    if (options.port !== undefined)
      notice(app, options.json, '--metrics-port is ignored: TELEMETRY_ENABLED is off.');
    return OFF;
  }
  const { startProcessTelemetry } = await import('../telemetry/process.js');
  const telemetry = await startProcessTelemetry({
    command: options.command,
    port: options.port ?? app.env.METRICS_PORT,
    host: app.env.METRICS_HOST,
    portSetting: METRICS_PORT_SETTING,
  });
  if (telemetry.notice) notice(app, options.json, telemetry.notice);
  if (telemetry.url) {
    app.log().info({ url: telemetry.url }, 'serving metrics');
    process.stdout.write(
      options.json
        ? `${JSON.stringify({ time: new Date().toISOString(), event: 'metrics:serving', url: telemetry.url })}\n`
        : paint.dim(`Metrics at ${telemetry.url}\n`),
    );
  }
  return telemetry;
}

/** A warning for people on stderr (never on a --json stdout), and in the log. */
function notice(app: App, json: boolean, text: string): void {
  app.log().warn({}, text);
  process.stderr.write(json ? `${text}\n` : paint.yellow(`${text}\n`));
}
