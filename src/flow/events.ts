/**
 * Transitions flow control reports through FlowControl.emit; the worker emits each as an event
 * of the same name (WorkerEvents), which `run queue:work` logs.
 */
export type FlowEvent =
  /**
   * Failures reached the breaker's threshold (or its probe failed: `reopened`): its jobs wait
   * until `until` (epoch ms, the storage's clock), `cooldownMs` (its configured cooldown) from
   * when it opened. `jobId` is the job whose failure opened it, `error` its message.
   */
  | {
      type: 'breaker:opened';
      name: string;
      failures: number;
      until: number;
      cooldownMs: number;
      reopened: boolean;
      jobId: string;
      error?: string;
    }
  /** The cooldown (or the last probe's lease) ended and job `jobId` was let through to probe. */
  | { type: 'breaker:half-open'; name: string; jobId: string }
  /** A probe (job `jobId`) succeeded: the breaker's jobs run again. */
  | { type: 'breaker:closed'; name: string; jobId: string }
  /**
   * Something flow control could not do and nothing else would show: a RetryAfter naming a
   * rate limit the config does not declare, a push-back the storage refused. The worker emits
   * it as its own `worker:error` (WorkerEvents), which `run queue:work` prints on stderr.
   */
  | { type: 'worker:error'; error: Error; during: string };

/**
 * FlowEvent as worker events: `{ 'breaker:opened': [event], ... }`. `worker:error` is left out:
 * WorkerEvents declares it, and a flow `worker:error` carries what it needs (error, during).
 */
export type FlowEvents = {
  [E in Exclude<FlowEvent, { type: 'worker:error' }> as E['type']]: [E];
};
