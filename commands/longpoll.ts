import { hostname } from 'node:os';
import { withApp } from '../src/cli/app.js';
import { durationFlag, globals, intFlag, newCommand, Option } from '../src/cli/command.js';
import { ConfigError, UsageError } from '../src/errors.js';
import { metricsPortOption, startTelemetry } from '../src/cli/telemetry.js';
import { renderIntake } from '../src/telegram/render-intake.js';
import { pickBot, telegramBots } from '../src/telegram/settings.js';
import { UPDATE_JOB, type UpdatePayload } from '../src/telegram/update-job.js';
import type { JobDefinition } from '../src/jobs/types.js';
import type { UpdateRef } from '../src/telegram/intake.js';

const STOP_SIGNALS = ['SIGTERM', 'SIGINT'] as const;

/** Longest --timeout: Telegram holds a poll for at most about a minute anyway. */
const MAX_TIMEOUT_MS = 300_000;

const AFTER_HELP = `
Each batch is stored in telegram_updates with the next offset in one transaction before the next
getUpdates confirms it to Telegram, then one telegram.update job per new update is dispatched
(run queue:work --queue telegram-updates runs the config's telegram.handler). One poller per bot:
a second one waits and takes over when the first stops. docs/telegram.md explains the guarantees.

SIGTERM or SIGINT: the held long poll is abandoned at once (Telegram keeps the updates), exit 0.
Exit codes: 0 stopped; 1 Telegram refused to be polled (409: a webhook is set, or another poller),
refused the token, or the storage failed; 2 a bad flag.
`;

function allowedUpdatesFlag(value: string): string[] {
  const items = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const bad = items.find((item) => !/^[a-z_]{1,64}$/.test(item));
  if (items.length === 0 || bad !== undefined) {
    throw new UsageError(
      `--allowed-updates must be a comma-separated list of update types such as message,callback_query; got "${value}".`,
    );
  }
  return items;
}

/**
 * Telegram takes any name in allowed_updates and then sends nothing of an unknown type, and
 * remembers the list for later polls too: a typo (`callback_quer`) would drop updates without a
 * word. The names are the Bot API's Update fields, as grammY lists them (ALL_UPDATE_TYPES).
 */
async function checkUpdateTypes(types: string[]): Promise<void> {
  const { API_CONSTANTS } = await import('grammy');
  const known: readonly string[] = API_CONSTANTS.ALL_UPDATE_TYPES;
  const unknown = types.filter((t) => !known.includes(t));
  if (unknown.length > 0)
    throw new UsageError(
      `--allowed-updates: ${unknown.map((t) => `"${t}"`).join(', ')} ${unknown.length === 1 ? 'is not an update type' : 'are not update types'}; Telegram would send nothing of ${unknown.length === 1 ? 'it' : 'them'}. The types: ${known.join(', ')}.`,
    );
}

export default function command() {
  return newCommand(
    'longpoll',
    "Receive a Telegram bot's updates, store them and dispatch a job per update (under supervisor)",
    'run longpoll --bot support --allowed-updates message,callback_query',
  )
    .option(
      '--bot <name>',
      'the bot to poll (default: the only bot; TELEGRAM_BOT_TOKEN is "default")',
    )
    .addOption(
      new Option('--timeout <duration>', 'how long Telegram may hold each poll (whole seconds)')
        .argParser((v: string) => {
          const ms = durationFlag('--timeout', { allowZero: true })(v);
          if (ms > MAX_TIMEOUT_MS)
            throw new UsageError(`--timeout must be at most 5m; got "${v}".`);
          return Math.ceil(ms / 1000);
        })
        .default(30, '30s'),
    )
    .option(
      '--limit <n>',
      'updates per poll, 1 to 100',
      intFlag('--limit', { min: 1, max: 100 }),
      100,
    )
    .option(
      '--allowed-updates <types>',
      'update types to receive, comma-separated (default: what Telegram has, it is sticky)',
      allowedUpdatesFlag,
    )
    .option(
      '--drop-webhook',
      "delete the bot's webhook first (Telegram refuses polls while one is set)",
    )
    .addOption(
      new Option(
        '--lease <duration>',
        'poller lease: a poller that dies is replaced this long after',
      )
        .argParser(durationFlag('--lease'))
        .default(15_000, '15s'),
    )
    .addOption(metricsPortOption())
    .option('--json', 'print JSON lines instead of readable lines')
    .addHelpText('after', AFTER_HELP)
    .action(async (opts) =>
      withApp(globals(opts), async (app) => {
        if (opts.lease < 1000) throw new UsageError(`--lease must be at least 1s.`);
        if (opts.allowedUpdates) await checkUpdateTypes(opts.allowedUpdates);
        const { config, file } = await app.config();
        const bot = pickBot(telegramBots(app.env, config.telegram), opts.bot);
        if (!config.telegram?.handler) {
          throw new ConfigError(
            `${file ?? 'The config'} has no telegram.handler, so no job could handle the updates.`,
            {
              hint: 'Give the config your grammY bot: defineConfig({ telegram: { handler: bot } }) where bot = new Bot(process.env.TELEGRAM_BOT_TOKEN!).',
            },
          );
        }
        const job = (await app.registry()).get(UPDATE_JOB) as JobDefinition<UpdatePayload>;
        const dispatcher = app.dispatcher();
        const db = await app.db();
        const transactional = await dispatcher.transactional(job.connection);
        const item = (row: UpdateRef, as = job) => ({
          job: as,
          payload: { id: row.id, bot: bot.id, updateId: row.updateId },
        });
        // Inside the batch's transaction a new row gets exactly one job, so the unique key (there
        // for the outbox, which may dispatch a row twice) would only cost two statements a batch.
        const once: JobDefinition<UpdatePayload> = { ...job, unique: undefined };
        const { Api } = await import('grammy');
        // The client gives up a little after Telegram should have answered a held poll.
        const api = new Api(bot.token, {
          apiRoot: app.env.TELEGRAM_API_ROOT,
          timeoutSeconds: opts.timeout + 30,
        });
        const { Intake } = await import('../src/telegram/intake.js');
        const intake = new Intake(
          {
            bot,
            timeoutS: opts.timeout,
            limit: opts.limit,
            allowedUpdates: opts.allowedUpdates,
            dropWebhook: Boolean(opts.dropWebhook),
            leaseMs: opts.lease,
            owner: `${hostname()}:${process.pid}`,
          },
          {
            db,
            api,
            dispatch: async (rows) =>
              (await dispatcher.dispatchMany(rows.map((row) => item(row)))).map((r) => r.id),
            // PostgreSQL's database queue: each batch stored and dispatched in one transaction.
            transaction:
              transactional &&
              ((fn) =>
                transactional((trx, dispatchMany) =>
                  fn(trx, async (rows) =>
                    (await dispatchMany(rows.map((row) => item(row, once)))).map((r) => r.id),
                  ),
                )),
          },
        );
        const out = renderIntake(intake, bot, { json: Boolean(opts.json), log: app.fileLog() });
        const telemetry = await startTelemetry(app, {
          command: 'longpoll',
          port: opts.metricsPort,
          json: Boolean(opts.json),
        });
        const stop = new AbortController();
        const onStop = (signal: string) => {
          if (!stop.signal.aborted) out.stopping(signal);
          stop.abort();
        };
        for (const s of STOP_SIGNALS) process.on(s, onStop);
        try {
          await intake.run(stop.signal);
        } finally {
          for (const s of STOP_SIGNALS) process.off(s, onStop);
          await telemetry.close();
        }
        out.stopped();
      }),
    );
}
