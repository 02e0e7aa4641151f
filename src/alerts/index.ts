/*
 * The public alerts entry point, `jobsmith/alerts`: the conditions an alert's `when` is built
 * from, and the `webhook.post` job (to post JSON from application code too). Kept off
 * `jobsmith` itself so an app without alerts never loads it.
 *
 * ```ts
 * import { defineConfig } from 'jobsmith';
 * import { queueSize, breakerOpen } from 'jobsmith/alerts';
 *
 * export default defineConfig({
 *   alerts: [
 *     { name: 'telegram-backlog', when: queueSize('telegram').above(1000).for('5m'), notify: ['telegram:123456789'] },
 *     { name: 'openai-down', when: breakerOpen('openai'), notify: ['mail:ops@example.com'] },
 *   ],
 * });
 * ```
 */
export {
  queueSize,
  failureRate,
  failures,
  sendFailures,
  waitTime,
  breakerOpen,
  noWorker,
  AlertCondition,
  AlertMeasure,
  WindowedCondition,
} from './conditions.js';
export type { AlertDuration, ConditionSpec, JobSelector } from './conditions.js';
export type { AlertConfig } from '../config/define.js';
export { webhookPost } from './webhook-job.js';
export type { WebhookPayload } from './webhook-job.js';
