/**
 * Transitions flow control reports through FlowControl.emit; the worker emits each as an event
 * of the same name (WorkerEvents), which `run queue:work` logs.
 */
export type FlowEvent =
  /** Failures passed the breaker's threshold: its jobs wait until `until` (epoch ms). */
  | { type: 'breaker:opened'; name: string; failures: number; until: number; error?: string }
  /** The cooldown ended and one probe job was let through. */
  | { type: 'breaker:half-open'; name: string }
  /** A probe succeeded (or an operator reset it): the breaker's jobs run again. */
  | { type: 'breaker:closed'; name: string };

/** FlowEvent as worker events: `{ 'breaker:opened': [event], ... }`. */
export type FlowEvents = { [E in FlowEvent as E['type']]: [E] };
