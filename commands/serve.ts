import { withApp } from '../src/cli/app.js';
import { globals, intFlag, newCommand, Option } from '../src/cli/command.js';
import { paint } from '../src/cli/output.js';
import { connectionFlag } from '../src/queue/names.js';

const STOP_SIGNALS = ['SIGTERM', 'SIGINT'] as const;

const AFTER_HELP = `
Serves the dashboard's pages at {base}/ and its JSON API at {base}/api (docs/dashboard.md). Any
--host but a loopback address needs DASHBOARD_TOKEN: every request must then carry it as a
bearer token or as the password of basic auth. --read-only (or DASHBOARD_READ_ONLY=true) refuses
every write with 403. To mount the dashboard in an existing server instead, import
createDashboardHandler from jobsmith/http.

SIGTERM or SIGINT: stop, exit 0.
Exit codes: 0 stopped; 1 the port cannot be had (taken, privileged), the host is not an address of
this machine, or the storage cannot be read at start; 2 a bad flag, or a host other than loopback
without DASHBOARD_TOKEN.
`;

export default function command() {
  return newCommand(
    'serve',
    'Serve the web dashboard and its JSON API',
    'run serve --port 8080 --base-path /jobs',
  )
    .addOption(new Option('--host <address>', 'address to listen on').default('127.0.0.1'))
    .addOption(
      new Option('--port <port>', 'port to listen on')
        .argParser(intFlag('--port', { min: 1, max: 65535 }))
        .default(8080),
    )
    .option('--base-path <path>', 'serve under this path, e.g. /jobs (default: the root)')
    .option('--read-only', 'refuse every write (default: DASHBOARD_READ_ONLY)')
    .option(
      '--connection <name>',
      'queue connection shown (default: QUEUE_CONNECTION)',
      connectionFlag('--connection'),
    )
    .option('--json', 'print JSON lines instead of readable lines')
    .addHelpText('after', AFTER_HELP)
    .action(async (opts) =>
      withApp(globals(opts), async (app) => {
        const { basePathOf, startDashboardServer } = await import('../src/http/serve.js');
        const basePath = basePathOf(opts.basePath ?? '');
        // The storage is opened (and migrated where allowed) before listening: a broken
        // setup fails here, not on a page.
        await app.db();
        const server = await startDashboardServer(app, {
          host: opts.host,
          port: opts.port,
          basePath,
          readOnly: Boolean(opts.readOnly) || app.env.DASHBOARD_READ_ONLY,
          connection: opts.connection,
          config: opts.config,
        });
        const event = (name: string, text: string, data: Record<string, unknown> = {}) =>
          process.stdout.write(
            opts.json
              ? `${JSON.stringify({ time: new Date().toISOString(), event: name, ...data })}\n`
              : `${text}\n`,
          );
        const mode = opts.readOnly || app.env.DASHBOARD_READ_ONLY ? ' (read-only)' : '';
        event(
          'dashboard:serving',
          `Serving the dashboard at ${server.url}${mode}. Ctrl+C to stop.`,
          {
            url: server.url,
            readOnly: Boolean(mode),
          },
        );
        await new Promise<void>((resolve) => {
          const onStop = () => {
            for (const s of STOP_SIGNALS) process.off(s, onStop);
            resolve();
          };
          for (const s of STOP_SIGNALS) process.on(s, onStop);
        });
        await server.close();
        event('dashboard:stopped', paint.dim('Stopped.'));
      }),
    );
}
