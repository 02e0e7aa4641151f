import type { WorkerReport } from './report.js';

const iso = (ms: number) => new Date(ms).toISOString();

/** A registered worker as `workers:list --json` prints it: snake_case, ISO times. */
export function workerJson(w: WorkerReport) {
  return {
    id: w.id,
    name: w.name,
    host: w.host,
    pid: w.pid,
    connection: w.connection,
    queues: w.queues,
    concurrency: w.concurrency,
    started_at: iso(w.startedAt),
    uptime_ms: w.uptimeMs,
    heartbeat_at: iso(w.heartbeatAt),
    heartbeat_age_ms: w.heartbeatAgeMs,
    stale: w.stale,
    processed: w.processed,
    failed: w.failed,
    running: w.running,
    current_jobs: w.currentJobs.map((j) => ({
      id: j.id,
      name: j.name,
      queue: j.queue,
      started_at: iso(j.startedAt),
    })),
  };
}
