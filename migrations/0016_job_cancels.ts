import type { Knex } from 'knex';

/*
 * Cancel requests for jobs a worker holds (`run queue:cancel`, docs/lifecycle.md). A waiting job
 * is deleted at once and never gets a row; a running one gets a row here, which its worker reads
 * about once a second (QueueDriver.cancelRequests) and answers by aborting the job's signal. The
 * row goes when the job ends. The redis driver keeps its requests in Redis instead (a key beside
 * the job's, with a TTL), so this table is for the SQL drivers only.
 *
 * No foreign key to jobs: a cascade would cost every completion a lookup here, the hot path.
 * Rows whose job is gone are swept by the next cancel instead.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('job_cancels', (t) => {
    t.bigInteger('job_id').primary();
    // Who asked and why, as the handler's JobCancelledError shows it.
    t.text('reason').notNullable();
    // Epoch ms, the database clock.
    t.bigInteger('requested_at').notNullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('job_cancels');
}
