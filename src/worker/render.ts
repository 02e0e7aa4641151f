import { paint } from '../cli/output.js';
import { printable } from '../logging/printable.js';
import { redact } from '../logging/redact.js';
import { formatDuration } from '../util/duration.js';
import type { Logger } from '../logging/logger.js';
import type { ClaimedJob } from '../queue/driver.js';
import { renderBreakers } from './render-breakers.js';
import { REPEAT_WINDOW_MS } from './stop-signals.js';
import type { Worker } from './worker.js';
import type { WorkerCaps } from './queue-slots.js';

/**
 * Renders worker events: one readable line per job (time, job, id, status, duration, attempt),
 * or JSON lines with --json; every event also goes to the log file, as a line with its `event`
 * name, and each job's line with the job's id, name, queue and attempt (`job`), its duration
 * once it ran (`durationMs`) and `jobFields` (the trace's ids). Error messages are masked and
 * bounded (`printable`) in lines and JSON, and the logger bounds its own fields; errors print
 * their message (and the named ones their hint), and `verbose` adds the stack.
 *
 * `log` should write to the log file only (App.fileLog): this prints each event's line itself,
 * and a logger that also writes to the terminal would show every event twice.
 */
export function renderWorker(
  worker: Worker,
  options: {
    json: boolean;
    log: Logger;
    out?: NodeJS.WritableStream;
    err?: NodeJS.WritableStream;
    verbose?: boolean;
    /** More fields for a job's log lines: the trace and span ids of its run, when traced. */
    jobFields?: (job: ClaimedJob) => Record<string, unknown> | undefined;
  },
): void {
  const out = options.out ?? process.stdout;
  const msg = (error: Error) => printable(error.message);
  const explain = explainer(options);
  const workerError = renderWorkerError(options);
  const log = options.log;
  const line = (
    status: string,
    job: { name: string; id: string; attempts: number },
    durationMs?: number,
    extra = '',
  ) => {
    if (options.json) return;
    const time = new Date().toISOString().replace('T', ' ').slice(0, 19);
    const duration = durationMs === undefined ? '' : ` ${formatDuration(durationMs)}`;
    out.write(
      redact(
        `${paint.dim(time)} ${job.name} #${job.id} ${status}${duration} ${paint.dim(`attempt ${job.attempts}`)}${extra}\n`,
      ),
    );
  };
  const json = (event: string, data: Record<string, unknown>) => {
    if (options.json)
      out.write(redact(`${JSON.stringify({ time: new Date().toISOString(), event, ...data })}\n`));
  };
  const jobData = (job: { id: string; name: string; queue: string; attempts: number }) => ({
    id: job.id,
    name: job.name,
    queue: job.queue,
    attempt: job.attempts,
  });
  const { jobFields } = options;
  /** A job event's log line: its name, the job, the trace's ids when traced, then `data`. */
  const logJob = (
    level: 'debug' | 'info' | 'warn' | 'error',
    event: string,
    job: ClaimedJob,
    data: Record<string, unknown>,
    message: string,
  ) => log[level]({ event, job: jobData(job), ...jobFields?.(job), ...data }, message);
  /** A job event's --json fields: the job's, then the trace's ids when traced. */
  const jobJson = (job: ClaimedJob) => ({ ...jobData(job), ...jobFields?.(job) });

  worker.on('worker:started', (e) => {
    log.info({ event: 'worker:started', ...e }, 'worker started');
    json('worker:started', e);
    if (!options.json)
      out.write(
        paint.dim(
          `Worker ${e.name} processing ${e.queues.join(', ')} (concurrency ${e.concurrency}${capsText(e.caps)}). Ctrl+C to stop.\n`,
        ),
      );
  });
  worker.on('job:processing', ({ job }) => {
    logJob('debug', 'job:processing', job, {}, 'job processing');
    json('job:processing', jobJson(job));
    line(paint.yellow('RUNNING'), job);
  });
  worker.on('job:processed', ({ job, durationMs }) => {
    logJob('info', 'job:processed', job, { durationMs }, 'job processed');
    json('job:processed', { ...jobJson(job), durationMs });
    line(paint.green('DONE'), job, durationMs);
  });
  worker.on('job:skipped', ({ job, durationMs, reason }) => {
    logJob('info', 'job:skipped', job, { durationMs, reason }, 'job skipped');
    json('job:skipped', {
      ...jobJson(job),
      durationMs,
      ...(reason ? { reason: printable(reason) } : {}),
    });
    line(paint.cyan('SKIPPED'), job, durationMs, reason ? ` ${paint.dim(printable(reason))}` : '');
  });
  worker.on('job:cancelled', ({ job, durationMs, reason }) => {
    logJob('info', 'job:cancelled', job, { durationMs, reason }, 'job cancelled');
    json('job:cancelled', { ...jobJson(job), durationMs, reason: printable(reason) });
    line(paint.yellow('CANCELLED'), job, durationMs, ` ${paint.dim(printable(reason))}`);
  });
  worker.on('job:released', ({ job, durationMs, delayMs, error, refunded }) => {
    const released = { durationMs, delayMs, refunded, error: error.message };
    logJob('warn', 'job:released', job, released, 'job released');
    json('job:released', { ...jobJson(job), durationMs, delayMs, refunded, error: msg(error) });
    // A put-back (RetryAfter: a rate limit, a lock, a breaker) spends no attempt: say so, so
    // that it does not read as a retry.
    const [status, note] = refunded
      ? [paint.cyan('PUT BACK'), ', no attempt spent']
      : [paint.yellow('RETRY'), ''];
    line(
      status,
      job,
      durationMs,
      ` ${paint.dim(`in ${formatDuration(delayMs)}${note}: ${msg(error)}`)}`,
    );
  });
  worker.on('job:failed', ({ job, durationMs, reason, error }) => {
    logJob('error', 'job:failed', job, { durationMs, reason, error: error.message }, 'job failed');
    json('job:failed', { ...jobJson(job), durationMs, reason, error: msg(error) });
    line(paint.red('FAIL'), job, durationMs, ` ${paint.dim(`${reason}: ${msg(error)}`)}`);
  });
  worker.on('job:abandoned', ({ job, durationMs, error }) => {
    const abandoned = { durationMs, error: error.message };
    logJob('warn', 'job:abandoned', job, abandoned, 'job released at shutdown');
    json('job:abandoned', { ...jobJson(job), durationMs, error: msg(error) });
    line(paint.yellow('RELEASED'), job, durationMs, ` ${paint.dim(msg(error))}`);
  });
  worker.on('job:isolated', ({ job }) => {
    logJob('warn', 'job:isolated', job, {}, 'job back from a lost lease; it runs alone');
    json('job:isolated', jobJson(job));
    line(
      paint.yellow('ISOLATED'),
      job,
      undefined,
      ` ${paint.dim('its last worker stopped while it ran; it runs alone next')}`,
    );
  });
  worker.on('job:lost', ({ job }) => {
    logJob('warn', 'job:lost', job, {}, 'job lease lost; nothing changed');
    json('job:lost', jobJson(job));
    line(
      paint.yellow('LOST'),
      job,
      undefined,
      ` ${paint.dim('lease taken by another claim; nothing changed')}`,
    );
  });
  worker.on('job:stuck', ({ job, error }) => {
    logJob('error', 'job:stuck', job, { error: error.message }, 'job ignored its timeout');
    json('job:stuck', { ...jobJson(job), error: msg(error) });
    line(
      paint.red('STUCK'),
      job,
      undefined,
      ` ${paint.dim(`${msg(error)}; the worker exits so its supervisor restarts it`)}`,
    );
  });
  renderBreakers(worker, { log, json, out: options.json ? undefined : out });
  worker.on('worker:error', ({ error, during }) => workerError(error, during));
  for (const event of ['worker:paused', 'worker:resumed'] as const) {
    worker.on(event, (e) => {
      log.info({ event, ...e }, event);
      json(event, e);
      if (!options.json)
        out.write(paint.dim(`${event === 'worker:paused' ? 'Paused' : 'Resumed'} (by ${e.by}).\n`));
    });
  }
  let paused: { queues: string[]; waiting: number } | undefined;
  worker.on('worker:stopping', ({ reason, error, paused: p }) => {
    paused = p;
    const hint = (error as { hint?: unknown } | undefined)?.hint;
    const data = {
      reason,
      ...(error ? { error: error.message } : {}),
      ...(typeof hint === 'string' ? { hint } : {}),
      ...(p ? { paused: p } : {}),
    };
    if (error) log.error({ event: 'worker:stopping', ...data }, 'worker stopping');
    else log.info({ event: 'worker:stopping', ...data }, 'worker stopping');
    json('worker:stopping', data);
    if (options.json) return;
    if (error) explain(error, 'Error:');
    if (reason === 'signal' || error)
      out.write(
        paint.dim(
          // A stop on an error came with no signal: "again" would be wrong there.
          reason === 'signal'
            ? `Stopping: finishing running jobs (signal again after ${REPEAT_WINDOW_MS / 1000}s to release them now)...\n`
            : 'Stopping: finishing running jobs (send SIGTERM to release them now)...\n',
        ),
      );
  });
  worker.on('worker:stopped', (e) => {
    log.info({ event: 'worker:stopped', ...e }, 'worker stopped');
    json('worker:stopped', e);
    if (options.json) return;
    const code = e.exitCode === 0 ? '' : `; exit ${e.exitCode}`;
    const waiting = paused
      ? `: ${paused.waiting} job(s) wait on paused queue(s) ${paused.queues.join(', ')} (run queue:resume ${paused.queues.join(' ')} to let them run)`
      : '';
    out.write(
      paint.dim(`Worker stopped (${e.reason}) after ${e.processed} job(s)${waiting}${code}.\n`),
    );
  });
}

/** `; a ≤ 2, b ≤ 4 here; a ≤ 3 across workers`, or nothing without caps. */
function capsText(caps: WorkerCaps | undefined): string {
  if (!caps) return '';
  const list = (m: Record<string, number>) =>
    Object.entries(m)
      .map(([q, n]) => `${q} ≤ ${n}`)
      .join(', ');
  const parts: string[] = [];
  if (caps.perQueue) parts.push(`${list(caps.perQueue)} here`);
  if (caps.globalConcurrency) parts.push(`${list(caps.globalConcurrency)} across workers`);
  return `; ${parts.join('; ')}`;
}

interface ErrorOutput {
  json: boolean;
  log: Logger;
  out?: NodeJS.WritableStream;
  err?: NodeJS.WritableStream;
  verbose?: boolean;
}

/** Prints an error's message, its hint and, with `verbose`, its stack, on stderr. */
function explainer(options: ErrorOutput): (error: Error, prefix: string) => void {
  const err = options.err ?? process.stderr;
  return (error, prefix) => {
    const hint = (error as { hint?: unknown }).hint;
    let text = `${paint.red(prefix)} ${printable(error.message)}\n`;
    if (typeof hint === 'string') text += `${paint.dim(printable(hint))}\n`;
    // A wrapper's own stack says nothing: show the stack of what it wraps.
    const origin = error.cause instanceof Error ? error.cause : error;
    if (options.verbose && origin.stack) text += `${paint.dim(origin.stack)}\n`;
    err.write(redact(text));
  };
}

/**
 * A worker:error as renderWorker prints it (`Error during claim: ...`, or its JSON line), for
 * `run queue:work` before its worker exists: the storage failures it waits out at start.
 */
export function renderWorkerError(options: ErrorOutput): (error: Error, during: string) => void {
  const out = options.out ?? process.stdout;
  const explain = explainer(options);
  return (error, during) => {
    options.log.error({ event: 'worker:error', during, error: error.message }, 'worker error');
    if (options.json) {
      const line = { time: new Date().toISOString(), event: 'worker:error', during };
      out.write(redact(`${JSON.stringify({ ...line, error: printable(error.message) })}\n`));
    } else explain(error, `Error during ${during}:`);
  };
}
