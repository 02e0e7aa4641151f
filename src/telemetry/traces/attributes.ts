/*
 * Span attribute names. The `messaging.*` ones are OpenTelemetry's messaging semantic
 * conventions (the profile pg-boss follows for its jobs); the `jobsmith.*` ones say what the
 * conventions have no word for. Spelled out here rather than taken from
 * @opentelemetry/semantic-conventions: the messaging names are still "incubating" there, and
 * only @opentelemetry/api is needed at run time.
 */

/** The tracer's name (its version is the package's). */
export const TRACER_NAME = 'jobsmith';

export const MESSAGING_SYSTEM = 'messaging.system';
/** Our value of messaging.system. */
export const SYSTEM = 'jobsmith';
/** `send` at dispatch, `process` when a worker runs the job. */
export const OPERATION_TYPE = 'messaging.operation.type';
export const OPERATION_NAME = 'messaging.operation.name';
/** The queue. */
export const DESTINATION = 'messaging.destination.name';
/** The job's id (on a dispatch span, when it stored one job). */
export const MESSAGE_ID = 'messaging.message.id';
/** How many jobs one dispatch stored, when more than one. */
export const BATCH_COUNT = 'messaging.batch.message_count';
/** The worker's name (`--name`, host:pid by default). */
export const CLIENT_ID = 'messaging.client.id';
/** The class of the error that ended the attempt (general semantic conventions). */
export const ERROR_TYPE = 'error.type';

/** The job's name (`digest.send`). */
export const JOB_NAME = 'jobsmith.job.name';
/** The attempt this run is, the first being 1. */
export const JOB_ATTEMPT = 'jobsmith.job.attempt';
/** How the run ended: processed, failed, retried, deferred, cancelled, skipped, abandoned, lost. */
export const JOB_OUTCOME = 'jobsmith.job.outcome';
/** Why a job failed for good: error, poison, max_attempts, timeout. */
export const FAIL_REASON = 'jobsmith.job.fail_reason';
/** Milliseconds until the next attempt (a retry or a RetryAfter). */
export const RETRY_DELAY = 'jobsmith.job.retry_delay_ms';
/** Who cancelled the job and why (`run queue:cancel`), masked. */
export const CANCEL_REASON = 'jobsmith.job.cancel_reason';
/** The dispatch found a unique job already waiting and stored nothing new. */
export const DEDUPLICATED = 'jobsmith.job.deduplicated';
/** The storage: `database`, `redis` or `sync`. */
export const CONNECTION = 'jobsmith.connection';
