/*
 * `run queue:pause` takes any queue name, as Laravel's `queue:pause` does: pausing a queue before
 * its first job is legitimate. A mistyped name, though, pauses nothing that runs and says
 * "Paused" all the same. This finds, for a name nothing uses, a near name something does use.
 */
import type { Knex } from 'knex';
import { pausedQueues } from '../queue/control.js';
import { listWorkerRows } from '../workers/store.js';
import type { App } from './app.js';
import { nearest } from './suggest.js';

/**
 * Queue names this app or its storage uses: `default`, the queues of the config's jobs and of
 * its `queues` section, the queues holding jobs on QUEUE_CONNECTION (or failed jobs on any),
 * the queues of registered workers, and those already paused. Best effort: a part that cannot be
 * read (a config that does not load, Redis down) adds nothing rather than failing the command.
 */
export async function usedQueueNames(app: App): Promise<Set<string>> {
  const names = new Set<string>(['default']);
  const add = (list: Iterable<string | undefined>) => {
    for (const n of list) if (n) names.add(n);
  };
  const parts: Array<Promise<void>> = [
    (async () => {
      const { config } = await app.config();
      add(Object.keys(config.queues ?? {}));
      add((config.jobs ?? []).map((j) => j.queue));
    })(),
    (async () => {
      const knex: Knex = (await app.db()).knex;
      add(await pausedQueues(knex));
      const failed = (await knex('failed_jobs').distinct('queue')) as Array<{ queue: string }>;
      add(failed.map((r) => r.queue));
      for (const w of await listWorkerRows(knex)) add(w.queues);
    })(),
    (async () => add(await (await app.queues().get()).queues()))(),
  ];
  await Promise.allSettled(parts);
  return names;
}

/**
 * For each of `asked` that nothing uses, the used name it is likely a typo of, if one is near
 * enough (suggest.ts). Names with no near used name are left out: a new queue, not a typo.
 */
export function likelyTypos(asked: string[], used: Set<string>): Map<string, string> {
  const typos = new Map<string, string>();
  for (const name of asked) {
    if (used.has(name)) continue;
    const near = nearest(name, [...used]);
    if (near !== undefined) typos.set(name, near);
  }
  return typos;
}
