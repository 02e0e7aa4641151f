import type { Knex } from 'knex';
import type { Worker } from '../worker/worker.js';
import { MetricsRecorder } from './recorder.js';

/**
 * Records `worker`'s metrics into job_metrics (in `knex`, the SQL storage), as `run queue:work`
 * does: a failed flush or prune is reported as the worker's own `worker:error`, which the
 * command renders and logs (the counts are kept for the next flush). `stop()` writes the rest;
 * call it once the worker has stopped.
 */
export function recordWorkerMetrics(
  worker: Worker,
  knex: Knex,
  retentionMs: number,
): { recorder: MetricsRecorder; stop(): Promise<void> } {
  const recorder = new MetricsRecorder({
    knex,
    retentionMs,
    onError: (error, during) => worker.emit('worker:error', { error, during }),
  });
  const detach = recorder.attach(worker);
  recorder.start();
  return {
    recorder,
    async stop() {
      detach();
      await recorder.stop();
    },
  };
}
