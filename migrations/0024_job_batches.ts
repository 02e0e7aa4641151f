import type { Knex } from 'knex';

/*
 * Batches (issue 18, docs/workflows.md "Batches"): a set of jobs dispatched together, followed
 * as one, with `then`/`catch`/`finally` callback jobs. SQL for every driver (a Redis queue's
 * batches live here too, as its failed jobs do), so the batch commands read the same whatever
 * the queue backend.
 *
 * job_batches holds the counters: `pending` counts jobs without a final outcome yet, `failed`
 * those that finally failed (their ids in `failed_job_ids`, a JSON array of strings). `options`
 * is JSON: allowFailures, the queue and connection, the callback steps and which callback jobs
 * have run (src/workflows/batches/store.ts). Times are epoch ms.
 *
 * job_batch_jobs has one row per job's FINAL outcome (a retried attempt is not one). Inserting it
 * is the idempotent step: only the insert that adds the row changes job_batches' counters, in
 * the same transaction, so a job that runs again after a crash cannot count twice.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('job_batches', (t) => {
    t.text('id').primary();
    t.text('name').nullable();
    t.integer('total').notNullable();
    t.integer('pending').notNullable();
    t.integer('failed').notNullable().defaultTo(0);
    t.text('failed_job_ids').notNullable().defaultTo('[]');
    t.text('options').notNullable();
    t.bigInteger('cancelled_at').nullable();
    t.bigInteger('created_at').notNullable();
    t.bigInteger('finished_at').nullable();
    // batch:list pages newest first; prune-batches finds old rows by their times.
    t.index(['created_at', 'id'], 'job_batches_created_at_id_index');
  });
  await knex.schema.createTable('job_batch_jobs', (t) => {
    t.text('batch_id').notNullable();
    t.text('job_id').notNullable();
    t.text('outcome').notNullable();
    t.bigInteger('settled_at').notNullable();
    t.primary(['batch_id', 'job_id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('job_batch_jobs');
  await knex.schema.dropTable('job_batches');
}
