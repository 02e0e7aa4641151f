import { withApp } from '../src/cli/app.js';
import { durationFlag, globals, newCommand, Option } from '../src/cli/command.js';
import { paint } from '../src/cli/output.js';
import { metricsPortOption, startTelemetry } from '../src/cli/telemetry.js';
import { loadSchedule, openScheduler } from '../src/schedule/open.js';
import { renderScheduler, renderSchedulerError } from '../src/schedule/render.js';
import { DEFAULT_STORAGE_TIMEOUT_MS } from '../src/worker/options.js';
import { asWorkerStorageError, describeStorage } from '../src/worker/storage-health.js';
import { openWhenReachable } from '../src/worker/storage-start.js';

const STOP_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGQUIT'] as const;

export default function command() {
  return newCommand(
    'schedule:work',
    'Run the schedule in the foreground, sleeping to each slot (under supervisor)',
    'run schedule:work --grace 60s',
  )
    .addOption(
      new Option(
        '--grace <duration>',
        'on SIGTERM, time running commands get to finish before they are killed',
      )
        .argParser(durationFlag('--grace', { allowZero: true }))
        .default(30_000, '30s'),
    )
    .addOption(
      new Option(
        '--storage-timeout <duration>',
        'at start, how long the database may keep failing (a server still starting) before exit 14',
      )
        .argParser(durationFlag('--storage-timeout'))
        .default(DEFAULT_STORAGE_TIMEOUT_MS, '60s'),
    )
    .addOption(metricsPortOption())
    .option('--json', 'print JSON lines instead of readable lines')
    .addHelpText(
      'after',
      '\nSIGTERM, SIGINT or SIGQUIT: stop taking slots, pass the signal to running commands, wait for them (up to --grace), exit 0.\nWith alerts in the config, it also checks them once a minute (as run alerts:check does).\nExit 14: at start, the database failed for --storage-timeout (connection refused, a server starting).\n',
    )
    .action(async (opts) =>
      withApp(globals(opts), async (app) => {
        const json = Boolean(opts.json);
        const out = (text: string, event: string, data: Record<string, unknown> = {}) =>
          process.stdout.write(
            json
              ? `${JSON.stringify({ time: new Date().toISOString(), event, ...data })}\n`
              : paint.dim(`${text}\n`),
          );
        const { entries, file } = await loadSchedule(app);
        // At boot, supervisor may start the scheduler before PostgreSQL or Redis listens: wait
        // for both, as queue:work does (src/worker/storage-start.ts), up to --storage-timeout,
        // then exit 14. The SQL storage holds the schedule's slots; the default connection
        // takes what it dispatches (nothing to reach for sync).
        const connection = app.queues().defaultName;
        await openWhenReachable(
          async () => {
            if (connection !== 'sync') await app.queues().get(connection);
            return app.db();
          },
          {
            timeoutMs: opts.storageTimeout,
            info: describeStorage(connection, await app.sql(), app.env.REDIS_URL),
            report: renderSchedulerError({ json, log: app.fileLog() }),
          },
        ).catch((error: unknown) => {
          throw asWorkerStorageError(error);
        });
        const { scheduler, clock } = await openScheduler(app, entries, { file, json });
        renderScheduler(scheduler, { json, log: app.fileLog(), clock });
        const telemetry = await startTelemetry(app, {
          command: 'schedule:work',
          port: opts.metricsPort,
          json,
        });
        // Loaded only for a config with alerts; a bad target stops the command here.
        const alerts = (await app.config()).config.alerts?.length
          ? await (await import('../src/alerts/watch.js')).watchAlerts(app, { json })
          : undefined;
        const onStop = () => scheduler.stop();
        for (const s of STOP_SIGNALS) process.on(s, onStop);
        try {
          if (entries.length === 0) {
            // Stay up rather than exit: under supervisor an exit would be restarted in a loop.
            out(
              `No schedule entries in ${file ?? 'the config'}; idle until stopped.`,
              'scheduler:started',
              {
                entries: 0,
              },
            );
            await new Promise<void>((resolve) => scheduler.once('scheduler:stopping', resolve));
          } else {
            out(
              `Scheduler started with ${entries.length} entr${entries.length === 1 ? 'y' : 'ies'}. Ctrl+C to stop.`,
              'scheduler:started',
              { entries: entries.length },
            );
            await scheduler.work(opts.grace);
          }
        } finally {
          for (const s of STOP_SIGNALS) process.off(s, onStop);
          await telemetry.close();
          await alerts?.stop();
        }
        app.log().info({}, 'scheduler stopped');
        out('Scheduler stopped.', 'scheduler:stopped');
      }),
    );
}
