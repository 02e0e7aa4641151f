import type { Knex } from 'knex';

/*
 * Worker control that every driver shares, kept in SQL storage: paused queues and the restart
 * signal. Workers read it about once a second (see src/worker/control-poller.ts).
 */

const RESTART_KEY = 'restart_requested_at';

export async function pausedQueues(knex: Knex): Promise<Set<string>> {
  const rows = await knex('queue_settings').where({ paused: true }).select('queue');
  return new Set(rows.map((r: { queue: string }) => r.queue));
}

/**
 * Pauses or resumes `queues`; returns those whose state changed (the others already were), so
 * `queue:resume` of a queue that was not paused can say so rather than "Resumed". `by` (who
 * paused, for `queue:paused`) is kept while the queue stays paused.
 */
export async function setPaused(
  knex: Knex,
  queues: string[],
  paused: boolean,
  by: string | null = null,
): Promise<string[]> {
  const now = Date.now();
  return knex.transaction(async (trx) => {
    const before = await pausedQueues(trx);
    const changed = queues.filter((q) => before.has(q) !== paused);
    if (changed.length > 0) {
      const paused_by = paused ? by : null;
      await trx('queue_settings')
        .insert(changed.map((queue) => ({ queue, paused, updated_at: now, paused_by })))
        .onConflict('queue')
        .merge(['paused', 'updated_at', 'paused_by']);
    }
    return changed;
  });
}

/** Asks every worker to exit after its current jobs (`run queue:restart`). */
export async function requestRestart(knex: Knex): Promise<number> {
  const at = Date.now();
  await knex('jobsmith_meta')
    .insert({ key: RESTART_KEY, value: String(at) })
    .onConflict('key')
    .merge(['value']);
  return at;
}

export async function restartRequestedAt(knex: Knex): Promise<number> {
  const row = await knex('jobsmith_meta').where({ key: RESTART_KEY }).first('value');
  return row ? Number(row.value) : 0;
}
