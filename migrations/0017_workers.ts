import type { Knex } from 'knex';

/*
 * The workers registry (src/workers, `run workers:list`): one row per running `queue:work`,
 * whatever its queue connection, kept in SQL storage as failed jobs are. A worker inserts its
 * row when it starts, rewrites it every few seconds (heartbeat_at, counts, current jobs) and
 * deletes it on a clean exit; a row whose heartbeat stopped is shown as stale, and deleted an
 * hour later by any worker. Times are epoch ms from the database clock.
 *
 * queue_settings.paused_by: who paused a queue (`user@host` of `run queue:pause`), for
 * `run queue:paused`; null for a queue paused before this migration.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('workers', (t) => {
    t.string('id', 36).primary();
    t.string('name', 190).notNullable();
    t.string('host', 190).notNullable();
    t.integer('pid').notNullable();
    // database | redis: where the worker claims jobs.
    t.string('connection', 32).notNullable();
    // JSON array of queue names, in the worker's priority order.
    t.text('queues').notNullable();
    t.integer('concurrency').notNullable();
    t.bigInteger('started_at').notNullable();
    t.bigInteger('heartbeat_at').notNullable();
    // Jobs that ended an attempt here (succeeded, failed, retried, cancelled, skipped).
    t.bigInteger('processed').notNullable().defaultTo(0);
    // Of those, jobs that failed for good.
    t.bigInteger('failed').notNullable().defaultTo(0);
    // Jobs running now; current_jobs lists at most the first 100 of them.
    t.integer('running').notNullable().defaultTo(0);
    // JSON array of { id, name, queue, started_at }.
    t.text('current_jobs').notNullable();
    // Pruning looks for old heartbeats.
    t.index(['heartbeat_at']);
  });
  await knex.schema.alterTable('queue_settings', (t) => {
    t.string('paused_by', 190).nullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('queue_settings', (t) => {
    t.dropColumn('paused_by');
  });
  await knex.schema.dropTable('workers');
}
