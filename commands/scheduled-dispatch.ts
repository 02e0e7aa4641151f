import { withApp } from '../src/cli/app.js';
import { durationFlag, globals, intFlag, newCommand, Option } from '../src/cli/command.js';
import { printJson, say } from '../src/cli/output.js';
import { ConfigError, UsageError } from '../src/errors.js';
import { metricsPortOption, startTelemetry } from '../src/cli/telemetry.js';
import { redact } from '../src/logging/redact.js';
import {
  dispatchDue,
  watchDue,
  type DispatchedBatch,
  type ScheduledDispatchDeps,
} from '../src/telegram/scheduled-dispatch.js';
import type { TelegramSendPayload } from '../src/telegram/send-payload.js';
import type { JobDefinition } from '../src/jobs/types.js';

const STOP_SIGNALS = ['SIGTERM', 'SIGINT'] as const;

const jsonOf = (batch: DispatchedBatch) => ({
  queued: batch.queued.length,
  failed: batch.failed.length,
  messages: batch.queued.map((q) => ({ ...q, sendAt: new Date(q.sendAt).toISOString() })),
  failures: batch.failed,
});

const lineOf = (batch: DispatchedBatch) =>
  `Queued ${batch.queued.length} scheduled message${batch.queued.length === 1 ? '' : 's'}` +
  (batch.failed.length > 0
    ? `; ${batch.failed.length} could not be queued and are failed: ${batch.failed.map((f) => `${f.id} (${f.error})`).join(', ')}`
    : '') +
  '.';

export default function command() {
  return newCommand(
    'scheduled:dispatch',
    'Queue the due scheduled Telegram messages, each once (--watch: keep doing it, under supervisor)',
    'run scheduled:dispatch --limit=100',
  )
    .option(
      '--limit <n>',
      'at most this many messages per batch, oldest first (1 to 10000)',
      intFlag('--limit', { min: 1, max: 10_000 }),
      100,
    )
    .option('--watch', 'keep running: sleep until the next message is due, stop on SIGTERM')
    .addOption(
      new Option(
        '--sleep <duration>',
        'with --watch, the longest sleep between checks (a message stored meanwhile waits at most this)',
      )
        .argParser(durationFlag('--sleep'))
        .default(1000, '1s'),
    )
    .addOption(metricsPortOption())
    .option('--json', 'print what was queued as JSON (one object per batch with --watch)')
    .action(async (opts) =>
      withApp(globals(opts), async (app) => {
        if (opts.metricsPort !== undefined && !opts.watch)
          throw new UsageError('--metrics-port needs --watch: a single run exits before a scrape.');
        const { config, file } = await app.config();
        const job = config.telegram ? (await app.registry()).get('telegram.scheduled') : undefined;
        if (!job)
          throw new ConfigError(
            `The config ${file ? `(${file}) ` : ''}has no telegram section, so no worker would send scheduled messages.`,
            { hint: 'Add telegram: {} to defineConfig, with TELEGRAM_BOT_TOKEN set.' },
          );
        const dispatcher = app.dispatcher();
        const deps: ScheduledDispatchDeps = {
          db: () => app.db(),
          job: job as JobDefinition<TelegramSendPayload>,
          dispatch: (j, payload) => dispatcher.dispatch(j, payload),
        };
        if (!opts.watch) {
          const batch = await dispatchDue(deps, opts.limit);
          return opts.json ? printJson(jsonOf(batch)) : say(lineOf(batch));
        }
        const telemetry = await startTelemetry(app, {
          command: 'scheduled:dispatch',
          port: opts.metricsPort,
          json: Boolean(opts.json),
        });
        const stop = new AbortController();
        const onStop = (signal: string) => {
          if (!stop.signal.aborted && !opts.json) say(`${signal}: stopping.`);
          stop.abort();
        };
        for (const s of STOP_SIGNALS) process.on(s, onStop);
        if (!opts.json)
          say(
            `Dispatching scheduled messages (batches of ${opts.limit}, checking at least every ${opts.sleep} ms).`,
          );
        try {
          await watchDue(
            deps,
            { limit: opts.limit, sleepMs: opts.sleep, signal: stop.signal },
            {
              batch: (batch) =>
                opts.json
                  ? process.stdout.write(`${JSON.stringify(jsonOf(batch))}\n`)
                  : say(lineOf(batch)),
              error: (error, retryInMs) =>
                app
                  .log()
                  .warn(
                    { error: redact(error.message), retryInMs },
                    'scheduled:dispatch could not dispatch; retrying',
                  ),
            },
          );
        } finally {
          for (const s of STOP_SIGNALS) process.off(s, onStop);
          await telemetry.close();
        }
      }),
    );
}
