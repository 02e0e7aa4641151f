/**
 * The public API of the `jobsmith` package. Kept light: a config file imports it, and loading
 * it must not pull in a database driver.
 */
export { defineConfig } from './config/define.js';
export type { JobsmithConfig, QueueSettings, RateLimitSettings } from './config/define.js';
export { defineJob } from './jobs/define.js';
export { defineCommand } from './cli/app-commands/define.js';
export type {
  CommandDefinition,
  CommandArgument,
  CommandOption,
  CommandInput,
} from './cli/app-commands/define.js';
export { skipIf } from './jobs/middleware.js';
export { breaker, BreakerOpen } from './flow/breakers/middleware.js';
export type { BreakerOptions, BreakerDuration } from './flow/breakers/settings.js';
export { withoutOverlapping } from './flow/locks/middleware.js';
export type { WithoutOverlappingOptions } from './flow/locks/middleware.js';
export { rateLimited, RateLimitError } from './flow/rate-limits/middleware.js';
export type {
  RateLimitedOptions,
  RateLimitKeyOf,
  RateLimitUse,
} from './flow/rate-limits/middleware.js';
export * from './schedule/frequencies.js';
export type { ScheduleEntry, JobScheduleEntry, CommandScheduleEntry } from './schedule/types.js';
export type * from './jobs/types.js';
export type { RetryAfterOptions } from './jobs/errors.js';
export { JobsmithError, ConfigError, UsageError, ConnectionError } from './errors.js';
export {
  Permanent,
  RetryAfter,
  RateLimitExceeded,
  JobTimeoutError,
  PoisonJobError,
  InvalidDispatchError,
  InvalidPayloadError,
  MiddlewareNextError,
} from './jobs/errors.js';
export { JobCancelledError } from './cancel/errors.js';
export {
  connect,
  dispatch,
  dispatchIf,
  dispatchUnless,
  dispatchMany,
  disconnect,
} from './queue/client.js';
export type { ConnectOptions, JobsmithClient } from './queue/client.js';
export { step } from './workflows/step.js';
export type { WorkflowStep } from './workflows/step.js';
export { chain } from './workflows/chains/chain.js';
export type { ChainBuilder, DispatchedChain } from './workflows/chains/chain.js';
export type { ChainContext } from './workflows/chains/context.js';
export { batch } from './workflows/batches/builder.js';
export type { PendingBatch, DispatchedBatch } from './workflows/batches/builder.js';
