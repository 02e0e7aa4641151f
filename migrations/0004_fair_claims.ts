import type { Knex } from 'knex';

/*
 * Fair claims and crash isolation (docs/reliability.md).
 *
 * - `ready_at`: when the job last joined the line of ready jobs (pushed, or put back by a
 *   release), in epoch microseconds: the millisecond times 1000, plus the job's place among those
 *   put back in the same millisecond (src/queue/database/reclaim.ts). Claims take jobs by priority, then ready_at, then id, so a job that is
 *   put back goes behind the jobs that were ready before it; by id alone a retried job kept its
 *   place at the front and could starve every other job. A claim and a lease renewal leave it
 *   alone, so on PostgreSQL they stay HOT updates (0003); only a release moves the job in the
 *   index.
 * - `alone`: the worker ran the job with nothing beside it (QueueDriver.markAlone). If that
 *   claim's lease runs out, the job itself is to blame and the lost attempt counts.
 * - `isolated`: set by a claim that found the job's previous lease run out; the worker runs such
 *   a job alone. Read back through RETURNING, which shows new values only.
 *
 * Creating the new index reads the whole jobs table once; on a large queue run the migration
 * while the workers are stopped.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('jobs', (t) => {
    t.bigInteger('ready_at').notNullable().defaultTo(0);
    t.boolean('alone').notNullable().defaultTo(false);
    t.boolean('isolated').notNullable().defaultTo(false);
  });
  // Jobs stored before this migration keep their order: the time they may run.
  await knex('jobs').update({ ready_at: knex.raw('available_at * 1000') });
  await knex.raw('create index jobs_ready_idx on jobs (queue, priority desc, ready_at, id)');
  await knex.raw('drop index jobs_claim_idx');
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('create index jobs_claim_idx on jobs (queue, priority desc, id)');
  await knex.raw('drop index jobs_ready_idx');
  await knex.schema.alterTable('jobs', (t) => {
    t.dropColumn('isolated');
    t.dropColumn('alone');
    t.dropColumn('ready_at');
  });
}
