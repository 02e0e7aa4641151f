import type { JobDefinition } from './types.js';

/** Job definitions by name, as listed in the config. */
export class JobRegistry {
  private readonly byName = new Map<string, JobDefinition>();

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  constructor(jobs: JobDefinition<any>[] = []) {
    for (const job of jobs) this.byName.set(job.name, job as JobDefinition);
  }

  get(name: string): JobDefinition | undefined {
    return this.byName.get(name);
  }

  names(): string[] {
    return [...this.byName.keys()];
  }

  all(): JobDefinition[] {
    return [...this.byName.values()];
  }
}
