import { hostname } from 'node:os';
import { withApp } from '../src/cli/app.js';
import { paint } from '../src/cli/output.js';
import {
  backoffFlag,
  durationFlag,
  globals,
  intFlag,
  listFlag,
  newCommand,
  Option,
  triesFlag,
} from '../src/cli/command.js';
import { flowControl } from '../src/flow/control.js';
import { MAX_CONCURRENCY, queuePolicy, type QueuePolicy } from '../src/config/queue-policies.js';
import { ConfigError, UsageError } from '../src/errors.js';
import { pausedQueues, restartRequestedAt } from '../src/queue/control.js';
import { recordWorkerMetrics } from '../src/metrics/attach.js';
import { startHistory } from '../src/history/attach.js';
import { encryptionNotice } from '../src/jobs/encryption/worker-notice.js';
import { HandlerFaults } from '../src/worker/handler-faults.js';
import { renderWorker, renderWorkerError } from '../src/worker/render.js';
import { DEFAULT_STORAGE_TIMEOUT_MS, type WorkerOptions } from '../src/worker/options.js';
import { asWorkerStorageError, describeStorage } from '../src/worker/storage-health.js';
import { openWhenReachable } from '../src/worker/storage-start.js';
import { listenForStopSignals, REPEAT_WINDOW_MS } from '../src/worker/stop-signals.js';
import { Worker } from '../src/worker/worker.js';
import { registerWorker } from '../src/workers/registration.js';
import { metricsPortOption, startTelemetry } from '../src/cli/telemetry.js';

/** Connections a worker can claim from; `sync` runs jobs when they are dispatched. */
const WORKER_CONNECTIONS = ['database', 'redis'];

const SYNC_HINT =
  "Run `run queue:work database` or `run queue:work redis`, and dispatch to that connection (QUEUE_CONNECTION, or the job's `connection`).";

const AFTER_HELP = `Signals: SIGTERM, SIGINT or SIGQUIT stop claiming and let running jobs finish within --grace,
then release them. The same signals again more than ${REPEAT_WINDOW_MS / 1000}s after the first release running jobs
at once; a repeat within ${REPEAT_WINDOW_MS / 1000}s is taken as the same stop. SIGUSR2 pauses claiming, SIGCONT resumes.

Exit codes: 0 stopped (signal, --stop-when-empty, --once, --max-jobs, --max-time, queue:restart);
12 memory past --memory; 13 a job ignored its timeout's abort; 14 the storage failed (at once when
waiting cannot fix it, else after --storage-timeout); 15 a job's code threw outside its promise.
`;

/** A duration flag whose default shows as a duration in --help (`1s`, not `1000`). */
function durationOption(
  flags: string,
  description: string,
  defaultMs?: number,
  options: { allowZero?: boolean } = {},
): Option {
  const option = new Option(flags, description).argParser(
    durationFlag(flags.split(' ')[0]!, options),
  );
  return defaultMs === undefined ? option : option.default(defaultMs, shown(defaultMs));
}

function shown(ms: number): string {
  if (ms === 0) return '0';
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

/**
 * --concurrency when given. Else a worker of one queue takes that queue's concurrency
 * (QUEUE_<NAME>_CONCURRENCY, then the config's `queues`), and a worker of several the sum of
 * its queues' concurrency, a queue without one counting 1; a worker none of whose queues sets
 * one runs 1 job at a time, as before per-queue caps existed (docs/concurrency.md). Within the
 * total, the worker keeps each queue's own concurrency (src/worker/queue-slots.ts).
 */
export function workerConcurrency(
  opts: { concurrency?: number; queue: string[] },
  policies: ReadonlyMap<string, QueuePolicy>,
): number {
  if (opts.concurrency !== undefined) return opts.concurrency;
  const own = opts.queue.map((q) => policies.get(q)?.concurrency);
  if (own.every((c) => c === undefined)) return 1;
  return Math.min(
    MAX_CONCURRENCY,
    own.reduce<number>((sum, c) => sum + (c ?? 1), 0),
  );
}

/** The connection argument, checked before anything opens. */
function workerConnection(connection: string | undefined): void {
  if (connection === undefined || WORKER_CONNECTIONS.includes(connection)) return;
  if (connection === 'sync') {
    throw new UsageError(
      'The sync connection runs each job when it is dispatched, so a worker has nothing to claim from it.',
      { hint: SYNC_HINT },
    );
  }
  throw new UsageError(
    `The [connection] argument must be ${WORKER_CONNECTIONS.join(' or ')}, got "${connection}".`,
    { hint: 'Leave it out to use QUEUE_CONNECTION.' },
  );
}

/** Where each option's value came from (commander's Command): `default` when not given. */
interface OptionSources {
  getOptionValueSource(key: string): string | undefined;
}

export default function command() {
  return newCommand(
    'queue:work',
    'Process jobs from the queues',
    'run queue:work --queue=high,default --concurrency=4',
  )
    .argument('[connection]', 'queue connection: database or redis (default: QUEUE_CONNECTION)')
    .addOption(
      new Option('--queue <queues>', 'queues in strict priority order, comma-separated')
        .argParser(listFlag('--queue'))
        .default(['default'], "the config's workerQueues, else default"),
    )
    .option(
      '--concurrency <n>',
      "jobs run at the same time (default: the queue's concurrency; with several queues, the sum of theirs, each kept to its own)",
      intFlag('--concurrency', { min: 1, max: 1000 }),
    )
    .option('--once', 'process one job, then exit 0')
    .option(
      '--stop-when-empty',
      'exit 0 when no job is ready and none runs (it says when queues are paused)',
    )
    .option(
      '--max-jobs <n>',
      'exit 0 after this many jobs have finished',
      intFlag('--max-jobs', { min: 1 }),
    )
    .addOption(
      durationOption(
        '--max-time <duration>',
        'exit 0 after this long (e.g. 1h), once running jobs finish',
      ),
    )
    .option(
      '--memory <mb>',
      'exit with code 12 when RSS passes this many MB',
      intFlag('--memory', { min: 16 }),
    )
    .addOption(
      durationOption('--sleep <duration>', 'longest idle wait between looks at the queues', 1000),
    )
    .addOption(
      durationOption(
        '--rest <duration>',
        'pause after each claim (one job, or a batch at --concurrency above 1)',
        0,
        { allowZero: true },
      ),
    )
    .option(
      '--prefetch <n>',
      'claim this many jobs ahead and hold them in memory (one queue only; 0 = off)',
      intFlag('--prefetch', { min: 0, max: 10000 }),
      0,
    )
    .addOption(durationOption('--timeout <duration>', "override every job's timeout"))
    .option('--tries <n>', "override every job's tries", triesFlag('--tries'))
    .option(
      '--backoff <seconds>',
      "override every job's backoff: seconds, or a list 10,30,60",
      backoffFlag('--backoff'),
    )
    .addOption(
      durationOption(
        '--lease <duration>',
        'lease per claim, renewed while the job runs (default: QUEUE_LEASE)',
      ),
    )
    .addOption(
      durationOption(
        '--grace <duration>',
        'on SIGTERM, SIGINT or SIGQUIT, time for running jobs to finish',
        30_000,
        {
          allowZero: true,
        },
      ),
    )
    .addOption(
      durationOption(
        '--storage-timeout <duration>',
        'how long the storage may keep failing (a restart, a network cut) before the worker exits 14',
        DEFAULT_STORAGE_TIMEOUT_MS,
      ),
    )
    .option('--name <name>', 'worker name in logs', `${hostname()}:${process.pid}`)
    .addOption(metricsPortOption())
    .option('--json', 'print JSON lines instead of readable lines')
    .addHelpText('after', AFTER_HELP)
    .action(async (connection: string | undefined, opts, command: OptionSources) => {
      // Checked before anything opens: jobs held ahead would break strict queue order, and a
      // count of jobs would not know about them.
      if (opts.prefetch > 0 && (opts.queue.length > 1 || opts.once || opts.maxJobs)) {
        throw new UsageError(
          '--prefetch needs a worker of one queue, without --once or --max-jobs.',
          { hint: 'Drop --prefetch, or run one worker per queue with --prefetch.' },
        );
      }
      workerConnection(connection);
      return withApp(globals(opts), async (app) => {
        if (connection === undefined && app.queues().defaultName === 'sync') {
          throw new ConfigError(
            'QUEUE_CONNECTION is sync, which runs each job when it is dispatched, so a worker has nothing to claim.',
            { hint: SYNC_HINT },
          );
        }
        const registry = await app.registry();
        if (registry.names().length === 0) {
          const { file } = await app.config();
          throw new ConfigError(
            file
              ? `${file} registers no jobs, so this worker could run nothing.`
              : 'No jobsmith.config.ts found, so this worker knows no jobs.',
            {
              hint: 'Run queue:work from the folder that holds jobsmith.config.ts, or pass --config PATH.',
            },
          );
        }
        // No --queue: the config's workerQueues, when it lists them (a Horizon supervisor's list).
        const { config, rateLimits } = await app.config();
        if (command.getOptionValueSource('queue') === 'default' && config.workerQueues) {
          opts.queue = [...config.workerQueues];
          if (opts.prefetch > 0 && opts.queue.length > 1)
            throw new UsageError(
              `--prefetch needs a worker of one queue, and the config's workerQueues lists ${opts.queue.length} (${opts.queue.join(', ')}).`,
              { hint: 'Pass --queue with one queue, or drop --prefetch.' },
            );
        }
        const json = Boolean(opts.json);
        // At boot, supervisor may start workers before PostgreSQL or Redis listens: a failure
        // waiting can fix is printed and retried as a running worker's, up to --storage-timeout
        // (then exit 14). Both parts must answer: the queue's driver and the SQL storage (failed
        // jobs, control, history live there even on redis). A file the driver cannot use
        // (read-only, corrupt, no schema) exits 14 at once; a refused login exits 1 at once.
        const { driver, db } = await openWhenReachable(
          async () => ({ driver: await app.queues().get(connection), db: await app.db() }),
          {
            timeoutMs: opts.storageTimeout,
            info: describeStorage(
              connection ?? app.queues().defaultName,
              await app.sql(),
              app.env.REDIS_URL,
            ),
            report: renderWorkerError({
              json,
              log: app.fileLog(),
              verbose: Boolean(opts.verbose),
            }),
          },
        ).catch((error: unknown) => {
          throw asWorkerStorageError(error);
        });
        const leaseMs: number = opts.lease ?? app.env.QUEUE_LEASE;
        const queuePolicies = new Map(
          (opts.queue as string[]).map((q) => [q, queuePolicy(q, config.queues?.[q], app.rawEnv)]),
        );
        const options: WorkerOptions = {
          queues: opts.queue,
          concurrency: workerConcurrency(opts, queuePolicies),
          once: Boolean(opts.once),
          stopWhenEmpty: Boolean(opts.stopWhenEmpty),
          maxJobs: opts.maxJobs,
          maxTimeMs: opts.maxTime,
          memoryMb: opts.memory,
          sleepMs: opts.sleep,
          restMs: opts.rest,
          prefetch: opts.prefetch,
          timeoutMs: opts.timeout,
          tries: opts.tries,
          backoff: opts.backoff,
          queuePolicies,
          leaseMs,
          graceMs: opts.grace,
          stuckGraceMs: Math.min(5000, Math.max(1000, Math.floor(leaseMs / 4))),
          storageTimeoutMs: opts.storageTimeout,
          name: opts.name,
        };
        const log = app.log();
        // Traces (TELEMETRY_ENABLED=true and @opentelemetry/api installed): a span per run.
        const tracing = await app.traces();
        if (app.tracesOff)
          log.warn({}, `TELEMETRY_ENABLED is true but ${app.tracesOff}: jobs are not traced`);
        const runs = tracing?.runs();
        // A line logged inside a handler (ctx.log) carries the ids of its run's span.
        const traced = tracing
          ? (extra: Record<string, unknown> = {}) => ({ ...tracing.activeLogFields(), ...extra })
          : (extra: Record<string, unknown> = {}) => extra;
        const dispatcher = app.dispatcher();
        // Pinning a stray error on its job costs a prefetching worker a quarter of its
        // throughput (handler-faults.ts): a worker tuned for throughput names the running jobs.
        const faults = new HandlerFaults({ track: !(opts.prefetch > 0) });
        // Flow transitions (a breaker opening) are emitted by the worker, as its own events.
        const flow = flowControl(driver, rateLimits, (event) =>
          worker.emit(event.type, event as never),
        );
        const worker: Worker = new Worker(options, {
          driver,
          flow,
          registry,
          control: {
            pausedQueues: () => pausedQueues(db.knex),
            restartRequestedAt: () => restartRequestedAt(db.knex),
          },
          log: {
            debug: (msg, extra) => log.debug(traced(extra), msg),
            info: (msg, extra) => log.info(traced(extra), msg),
            warn: (msg, extra) => log.warn(traced(extra), msg),
            error: (msg, extra) => log.error(traced(extra), msg),
          },
          // A job defined with its own connection keeps it; others stay on the worker's.
          dispatch: (job, payload, o) =>
            dispatcher.dispatch(job, payload, {
              connection: job.connection ?? driver.connection,
              ...o,
            }),
          storage: describeStorage(driver.connection, db, app.env.REDIS_URL),
          jobContext: faults.jobs,
          aroundHandler: runs?.aroundHandler,
          // Batches' jobs and callbacks (src/workflows/) record on the SQL storage.
          workflow: { db: async () => db.knex, dispatcher, connection: driver.connection },
        });
        // Before the renderer: a job's span is open when its line is logged.
        runs?.attach(worker, options.name);
        // The renderer prints each event itself: its log lines go to LOG_FILE only.
        renderWorker(worker, {
          json,
          log: app.fileLog(),
          verbose: Boolean(opts.verbose),
          jobFields: runs && ((job) => runs.logFields(job)),
        });
        // With TELEMETRY_ENABLED, /metrics (a taken port exits 1 here, before any claim).
        const telemetry = await startTelemetry(app, {
          command: 'queue:work',
          port: opts.metricsPort,
          json,
        });
        const unwatch = telemetry.watchWorker(worker, {
          known: (name) => registry.get(name) !== undefined,
          expected: registry
            .all()
            .map((job) => ({ queue: job.queue ?? 'default', job: job.name }))
            .filter((e) => (opts.queue as string[]).includes(e.queue)),
        });
        const capped = queuePolicies.get(opts.queue[0])?.globalConcurrency;
        if (opts.prefetch > 0 && capped !== undefined) {
          // Jobs held ahead would hold slots of the global cap without running.
          const note = `--prefetch is off: queue ${opts.queue[0]} has a globalConcurrency of ${capped}, and jobs held ahead would take its slots without running.`;
          // Printed below: to the file only, or a terminal shows it twice.
          app.fileLog().warn({ queue: opts.queue[0] }, note);
          if (!json) process.stdout.write(paint.dim(`${note}\n`));
        }
        // Encrypted jobs of its queues this worker could not open would each fail as poison unsaid.
        const keysNote = encryptionNotice(
          registry
            .all()
            .filter((job) => job.encrypted && opts.queue.includes(job.queue ?? 'default'))
            .map((job) => job.name),
          app.rawEnv,
        );
        if (keysNote) {
          app.fileLog().warn({}, keysNote);
          // With --json, stdout is the events' lines: the notice goes to stderr.
          if (json) process.stderr.write(`${keysNote}\n`);
          else process.stdout.write(paint.yellow(`${keysNote}\n`));
        }
        const stopListening = listenForStopSignals(worker, {
          onRepeat: (signal, windowMs) => {
            app.fileLog().info({ signal }, 'stop signal repeated; same stop');
            if (!json)
              process.stdout.write(
                paint.dim(
                  `${signal} again within ${windowMs / 1000}s of the first: the same stop (send it again later to release running jobs now).\n`,
                ),
              );
          },
        });
        const stopFaults = faults.listen(worker);
        // Per-minute counts in job_metrics for `run queue:stats`, written every few seconds.
        const metrics = recordWorkerMetrics(worker, db.knex, app.env.METRICS_RETENTION);
        // Finished jobs as their retention keeps them, written off the hot path (src/history/).
        const history = startHistory(worker, {
          knex: db.knex,
          connection: driver.connection,
          registry,
          queueSettings: config.queues,
          queues: opts.queue,
        });
        const onPause = () => worker.pause();
        const onResume = () => worker.resume();
        process.on('SIGUSR2', onPause);
        process.on('SIGCONT', onResume);
        // The workers registry (run workers:list); its row goes on a clean exit.
        const { name, queues, concurrency } = options;
        const registration = await registerWorker(db.knex, worker, {
          ...{ name, queues, concurrency, connection: driver.connection, leaseMs },
        });
        try {
          process.exitCode = await worker.run();
        } finally {
          await history.close();
          await registration.stop();
          stopListening();
          stopFaults();
          await metrics.stop();
          unwatch();
          await telemetry.close();
          process.off('SIGUSR2', onPause);
          process.off('SIGCONT', onResume);
        }
      });
    });
}
