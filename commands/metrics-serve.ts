import { withApp } from '../src/cli/app.js';
import { durationFlag, globals, intFlag, newCommand, Option } from '../src/cli/command.js';
import { paint } from '../src/cli/output.js';
import { ConfigError } from '../src/errors.js';
import { connectionFlag } from '../src/queue/names.js';

const STOP_SIGNALS = ['SIGTERM', 'SIGINT'] as const;

/** When neither --port nor METRICS_PORT says: the port OpenTelemetry's Prometheus exporter uses. */
const DEFAULT_PORT = 9464;

const AFTER_HELP = `
The gauges (jobsmith_queue_size, jobsmith_failed_jobs, jobsmith_queue_paused,
jobsmith_breaker_state, jobsmith_rate_limit_backlog_seconds) come from a read of the storage every
--refresh, in a thread of its own; a scrape reads memory only. Run one metrics:serve per storage.
The list of metrics and a Prometheus config: docs/telemetry.md.

Needs TELEMETRY_ENABLED=true and prom-client. SIGTERM or SIGINT: stop, exit 0.
Exit codes: 0 stopped; 1 telemetry is off, prom-client is missing, the port cannot be had (taken,
privileged) or the storage cannot be read at start; 2 a bad flag.
`;

export default function command() {
  return newCommand(
    'metrics:serve',
    'Serve queue sizes, failed jobs, breakers and rate-limit backlogs to Prometheus on /metrics',
    'run metrics:serve --port 9464 --refresh 5s',
  )
    .option(
      '--port <port>',
      `port of /metrics (default: METRICS_PORT, else ${DEFAULT_PORT})`,
      intFlag('--port', { min: 1, max: 65535 }),
    )
    .option('--host <address>', 'address to listen on (default: METRICS_HOST, else 127.0.0.1)')
    .addOption(
      new Option('--refresh <duration>', 'how often the gauges are read from the storage')
        .argParser(durationFlag('--refresh'))
        .default(5000, '5s'),
    )
    .option(
      '--connection <name>',
      'queue connection whose queues are read (default: QUEUE_CONNECTION)',
      connectionFlag('--connection'),
    )
    .option('--json', 'print JSON lines instead of readable lines')
    .addHelpText('after', AFTER_HELP)
    .action(async (opts) =>
      withApp(globals(opts), async (app) => {
        if (!app.env.TELEMETRY_ENABLED) {
          throw new ConfigError('TELEMETRY_ENABLED is off, so metrics:serve serves nothing.', {
            hint: 'Set TELEMETRY_ENABLED=true in the environment or in .env.',
          });
        }
        const { startMetricsServer } = await import('../src/telemetry/serve.js');
        const server = await startMetricsServer(app, {
          port: opts.port ?? app.env.METRICS_PORT ?? DEFAULT_PORT,
          host: opts.host ?? app.env.METRICS_HOST,
          refreshMs: opts.refresh,
          connection: opts.connection,
          config: opts.config,
          portSetting: '--port or METRICS_PORT',
        });
        const event = (name: string, text: string, data: Record<string, unknown> = {}) =>
          process.stdout.write(
            opts.json
              ? `${JSON.stringify({ time: new Date().toISOString(), event: name, ...data })}\n`
              : paint.dim(`${text}\n`),
          );
        const duties = server.duties.length > 0 ? `; also running ${server.duties.join(', ')}` : '';
        event(
          'metrics:serving',
          `Serving queue metrics at ${server.url} (read every ${opts.refresh / 1000}s${duties}). Ctrl+C to stop.`,
          { url: server.url, refreshMs: opts.refresh, duties: server.duties },
        );
        await new Promise<void>((resolve) => {
          const onStop = () => {
            for (const s of STOP_SIGNALS) process.off(s, onStop);
            resolve();
          };
          for (const s of STOP_SIGNALS) process.on(s, onStop);
        });
        await server.close();
        event('metrics:stopped', 'Stopped.');
      }),
    );
}
