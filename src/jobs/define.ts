import { ConfigError } from '../errors.js';
import type { JobDefinition, JobOptions } from './types.js';

const NAME = /^[A-Za-z0-9_.:-]{1,190}$/;

/** Declares a job. The returned definition is passed to `defineConfig({ jobs })` and `dispatch`. */
export function defineJob<P>(options: JobOptions<P>): JobDefinition<P> {
  if (!NAME.test(options.name ?? '')) {
    throw new ConfigError(
      `Invalid job name ${JSON.stringify(options.name)}: use letters, digits and . _ : - (at most 190).`,
    );
  }
  const tries = options.tries ?? 3;
  if (!Number.isInteger(tries) || tries < 1) {
    throw new ConfigError(`Job ${options.name}: tries must be a whole number ≥ 1, got ${tries}.`);
  }
  const timeout = options.timeout ?? 60;
  if (!(timeout > 0)) {
    throw new ConfigError(`Job ${options.name}: timeout must be a positive number of seconds.`);
  }
  return {
    kind: 'jobsmith.job',
    name: options.name,
    queue: options.queue ?? 'default',
    tries,
    backoff: options.backoff ?? [10, 30, 60],
    timeout,
    priority: options.priority ?? 0,
    schema: options.schema,
    unique: options.unique,
    connection: options.connection,
    handle: options.handle,
    failed: options.failed,
  };
}
