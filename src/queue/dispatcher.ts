import { prepareJob } from '../jobs/prepare.js';
import type { DispatchOptions, DispatchResult, JobDefinition } from '../jobs/types.js';
import type { NewJob, QueueDriver } from './driver.js';

/**
 * Pushes jobs through a driver. One per connection; `dispatch()` from application code goes
 * through one of these (see src/queue/client.ts).
 */
export class Dispatcher {
  constructor(private readonly driverFor: (connection?: string) => Promise<QueueDriver>) {}

  async dispatch<P>(
    job: JobDefinition<P>,
    payload: P,
    options: DispatchOptions = {},
  ): Promise<DispatchResult> {
    const [result] = await this.push([prepareJob(job, payload, options)], options.connection);
    return result!;
  }

  async dispatchIf<P>(
    condition: unknown,
    job: JobDefinition<P>,
    payload: P,
    options?: DispatchOptions,
  ) {
    return condition ? this.dispatch(job, payload, options) : undefined;
  }

  async dispatchUnless<P>(
    condition: unknown,
    job: JobDefinition<P>,
    payload: P,
    options?: DispatchOptions,
  ) {
    return condition ? undefined : this.dispatch(job, payload, options);
  }

  /** Dispatches many jobs in one transaction: all are stored, or none. */
  async dispatchMany<P>(
    items: Array<{ job: JobDefinition<P>; payload: P; options?: DispatchOptions }>,
    connection?: string,
  ): Promise<DispatchResult[]> {
    return this.push(
      items.map((i) => prepareJob(i.job, i.payload, i.options)),
      connection,
    );
  }

  /** Pushes rows that are already prepared (used by queue:retry and queue:dispatch). */
  async push(jobs: NewJob[], connection?: string): Promise<DispatchResult[]> {
    if (jobs.length === 0) return [];
    const driver = await this.driverFor(connection);
    return driver.push(jobs);
  }
}
