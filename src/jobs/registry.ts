import { defineJob } from './define.js';
import type { JobDefinition } from './types.js';

/**
 * `jobsmith.ping`: a job every worker knows whatever the config lists. It does nothing but
 * log "pong", so `queue_manager.sh test` can check that workers are up and take jobs.
 */
export const pingJob = defineJob<unknown>({
  name: 'jobsmith.ping',
  tries: 1,
  timeout: 10,
  handle(_payload, ctx) {
    ctx.log.info('pong', { jobId: ctx.jobId, queue: ctx.queue });
  },
});

const BUILT_IN = new Map<string, JobDefinition>([[pingJob.name, pingJob]]);

/** Job definitions by name, as listed in the config, plus the built-in ones. */
export class JobRegistry {
  private readonly byName = new Map<string, JobDefinition>();
  private readonly unconfigured: ReadonlyMap<string, string>;

  /**
   * @param jobs the app's jobs, with the built-in jobs of the integrations it uses
   * @param unconfigured names of the built-in jobs of integrations this app does not set up
   *   (`mail.send` without MAIL_URL...), each with what to set: a worker that meets one says so
   */
  constructor(
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    jobs: JobDefinition<any>[] = [],
    unconfigured: ReadonlyMap<string, string> = new Map(),
  ) {
    for (const job of jobs) this.byName.set(job.name, job as JobDefinition);
    this.unconfigured = unconfigured;
  }

  /** What to set for an integration's job this app does not set up, or undefined. */
  setupOf(name: string): string | undefined {
    return this.byName.has(name) ? undefined : this.unconfigured.get(name);
  }

  /** The app's job of that name, else a built-in one (the app's own wins). */
  get(name: string): JobDefinition | undefined {
    return this.byName.get(name) ?? BUILT_IN.get(name);
  }

  /** Names of the app's jobs (built-in ones are not listed). */
  names(): string[] {
    return [...this.byName.keys()];
  }

  /** The app's jobs (built-in ones are not listed). */
  all(): JobDefinition[] {
    return [...this.byName.values()];
  }
}
