import { hostname } from 'node:os';
import { withApp } from '../src/cli/app.js';
import { durationFlag, globals, intFlag, listFlag, newCommand } from '../src/cli/command.js';
import { ConfigError, UsageError } from '../src/errors.js';
import { pausedQueues, restartRequestedAt } from '../src/queue/control.js';
import { renderWorker } from '../src/worker/render.js';
import type { WorkerOptions } from '../src/worker/options.js';
import { Worker } from '../src/worker/worker.js';

const STOP_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGQUIT'] as const;

function backoffFlag(value: string): number[] {
  const parts = value.split(',').map((s) => Number(s.trim()));
  if (parts.length === 0 || parts.some((n) => !Number.isFinite(n) || n < 0)) {
    throw new UsageError(
      `--backoff must be seconds or a comma list of seconds (10,30,60), got "${value}".`,
    );
  }
  return parts;
}

export default function command() {
  return newCommand(
    'queue:work',
    'Process jobs from the queues',
    'run queue:work --queue=high,default --concurrency=4',
  )
    .argument(
      '[connection]',
      'queue connection: database, redis or sync (default: QUEUE_CONNECTION)',
    )
    .option(
      '--queue <queues>',
      'queues in strict priority order, comma-separated',
      listFlag('--queue'),
      ['default'],
    )
    .option(
      '--concurrency <n>',
      'jobs run at the same time',
      intFlag('--concurrency', { min: 1, max: 1000 }),
      1,
    )
    .option('--once', 'process one job, then exit')
    .option('--stop-when-empty', 'exit when the queues are empty')
    .option('--max-jobs <n>', 'exit after this many jobs', intFlag('--max-jobs', { min: 1 }))
    .option('--max-time <duration>', 'exit after this long (e.g. 1h)', durationFlag('--max-time'))
    .option(
      '--memory <mb>',
      'exit with code 12 when RSS passes this many MB',
      intFlag('--memory', { min: 16 }),
    )
    .option(
      '--sleep <duration>',
      'longest idle wait between looks at the queues',
      durationFlag('--sleep'),
      1000,
    )
    .option(
      '--rest <duration>',
      'pause after each claim',
      durationFlag('--rest', { allowZero: true }),
      0,
    )
    .option(
      '--prefetch <n>',
      'claim this many jobs ahead and hold them in memory (one queue only; 0 = off)',
      intFlag('--prefetch', { min: 0, max: 10000 }),
      0,
    )
    .option('--timeout <duration>', "override every job's timeout", durationFlag('--timeout'))
    .option('--tries <n>', "override every job's tries", intFlag('--tries', { min: 1 }))
    .option(
      '--backoff <seconds>',
      "override every job's backoff: seconds, or a list 10,30,60",
      backoffFlag,
    )
    .option(
      '--lease <duration>',
      'lease per claim, renewed while the job runs (default: QUEUE_LEASE)',
      durationFlag('--lease'),
    )
    .option(
      '--grace <duration>',
      'on shutdown, time for running jobs to finish',
      durationFlag('--grace', { allowZero: true }),
      30_000,
    )
    .option('--name <name>', 'worker name in logs', `${hostname()}:${process.pid}`)
    .option('--json', 'print JSON lines instead of readable lines')
    .action(async (connection: string | undefined, opts) => {
      // Checked before anything opens: jobs held ahead would break strict queue order, and a
      // count of jobs would not know about them.
      if (opts.prefetch > 0 && (opts.queue.length > 1 || opts.once || opts.maxJobs)) {
        throw new UsageError(
          '--prefetch needs a worker of one queue, without --once or --max-jobs.',
          { hint: 'Drop --prefetch, or run one worker per queue with --prefetch.' },
        );
      }
      return withApp(globals(opts), async (app) => {
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
        const driver = await app.queues().get(connection);
        const db = await app.db();
        const leaseMs: number = opts.lease ?? app.env.QUEUE_LEASE;
        const options: WorkerOptions = {
          queues: opts.queue,
          concurrency: opts.concurrency,
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
          leaseMs,
          graceMs: opts.grace,
          stuckGraceMs: Math.min(5000, Math.max(1000, Math.floor(leaseMs / 4))),
          name: opts.name,
        };
        const log = app.log();
        const dispatcher = app.dispatcher();
        const worker = new Worker(options, {
          driver,
          registry,
          control: {
            pausedQueues: () => pausedQueues(db.knex),
            restartRequestedAt: () => restartRequestedAt(db.knex),
          },
          log: {
            debug: (msg, extra) => log.debug(extra ?? {}, msg),
            info: (msg, extra) => log.info(extra ?? {}, msg),
            warn: (msg, extra) => log.warn(extra ?? {}, msg),
            error: (msg, extra) => log.error(extra ?? {}, msg),
          },
          // A job defined with its own connection keeps it; others stay on the worker's.
          dispatch: (job, payload, o) =>
            dispatcher.dispatch(job, payload, {
              connection: job.connection ?? driver.connection,
              ...o,
            }),
        });
        renderWorker(worker, { json: Boolean(opts.json), log });
        const onStop = () => worker.stop('signal');
        const onPause = () => worker.pause();
        const onResume = () => worker.resume();
        for (const s of STOP_SIGNALS) process.on(s, onStop);
        process.on('SIGUSR2', onPause);
        process.on('SIGCONT', onResume);
        try {
          process.exitCode = await worker.run();
        } finally {
          for (const s of STOP_SIGNALS) process.off(s, onStop);
          process.off('SIGUSR2', onPause);
          process.off('SIGCONT', onResume);
        }
      });
    });
}
