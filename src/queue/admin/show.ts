import type { Knex } from 'knex';
import { findFinished, type FinishedJob } from '../../history/find-finished.js';
import { showPayload } from '../../jobs/encryption/display.js';
import { redact } from '../../logging/redact.js';
import type { JobRow, QueueDriver } from '../driver.js';
import { jobJson } from './present.js';

/*
 * One job by id, whatever its state (`run queue:show ID`, GET /api/jobs/ID): a live job from
 * its driver, else a finished one from the job history (or failed_jobs).
 */

export type ShownJob = { live: JobRow } | { finished: FinishedJob };

/** The job with this id on the driver's connection; null when neither knows it. */
export async function showJob(
  driver: QueueDriver,
  knex: Knex,
  id: string,
): Promise<ShownJob | null> {
  const live = await driver.find(id);
  if (live) return { live };
  const finished = await findFinished(id, knex, { connection: driver.connection });
  return finished ? { finished } : null;
}

/**
 * As `queue:show --json` and GET /api/jobs/ID give it: a live job's jobJson, or the finished job
 * with its timeline, in the same snake_case as a live job and `queue:history --json` (a script
 * reads `finished_at` whichever command it came from). Errors are masked (when stored, and again
 * here for secrets registered since).
 */
export function shownJobJson(job: ShownJob) {
  if ('live' in job) return jobJson(job.live);
  const f = job.finished;
  const masked = (error: string | null) => (error === null ? null : redact(error));
  return {
    source: f.source,
    id: f.id,
    connection: f.connection,
    queue: f.queue,
    name: f.name,
    status: f.status,
    attempts: f.attempts,
    payload: showPayload(f.payload),
    result: f.result,
    error: masked(f.error),
    progress: f.progress,
    tags: f.tags,
    finished_at: f.finishedAt,
    runtime_ms: f.runtimeMs,
    timeline: f.timeline.map((step) =>
      step.event === 'dispatched'
        ? step
        : {
            event: step.event,
            attempt: step.attempt,
            started_at: step.startedAt,
            ended_at: step.endedAt,
            outcome: step.outcome,
            error: masked(step.error),
          },
    ),
  };
}
