import type { Knex } from 'knex';

/*
 * job_history: finished jobs kept for their retention window (docs/lifecycle.md), whatever the
 * queue backend (Redis jobs too, as failed_jobs), written in batches by the worker's
 * HistoryWriter (src/history/). A job is known by its connection and its id there: two
 * backends count ids on their own, and the same id may come back on one (an SQLite rowid), in
 * which case the newer job's row replaces the older's. Times are epoch ms; `expires_at` is when
 * the row may be pruned (`run queue:prune-history`, and the worker, a bounded batch a minute).
 *
 * job_attempts: the attempts that did not end their job (released for a retry, put back by a
 * RetryAfter, abandoned at shutdown), so a finished job's timeline shows each try. A job that
 * succeeds at its first try writes none. Its own `expires_at`: a retried job may still be
 * waiting, or end without a history row (a success nobody keeps).
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('job_history', (t) => {
    t.string('connection', 16).notNullable();
    t.string('id', 190).notNullable();
    t.string('queue', 190).notNullable();
    t.string('name', 190).notNullable();
    t.string('status', 16).notNullable();
    t.integer('attempts').notNullable();
    t.text('payload').notNullable();
    t.text('result').nullable();
    t.text('error').nullable();
    t.text('progress').nullable();
    t.text('tags').nullable();
    t.bigInteger('dispatched_at').nullable();
    t.bigInteger('started_at').nullable();
    t.bigInteger('finished_at').notNullable();
    t.integer('runtime_ms').nullable();
    t.bigInteger('expires_at').notNullable();
    // Id first: findFinished(id) (queue:show ID) looks a job up by its id alone.
    t.primary(['id', 'connection']);
    // queue:history lists newest first, filtered by one of these (a job name, or a tag, is
    // found by walking finished_at back: each index costs every kept job a b-tree write).
    t.index(['finished_at'], 'job_history_finished_at_index');
    t.index(['queue', 'finished_at'], 'job_history_queue_finished_at_index');
    t.index(['status', 'finished_at'], 'job_history_status_finished_at_index');
    t.index(['expires_at'], 'job_history_expires_at_index');
  });
  await knex.schema.createTable('job_attempts', (t) => {
    t.bigIncrements('seq');
    t.string('connection', 16).notNullable();
    t.string('job_id', 190).notNullable();
    t.integer('attempt').notNullable();
    t.bigInteger('started_at').notNullable();
    t.bigInteger('ended_at').notNullable();
    t.string('outcome', 16).notNullable();
    t.text('error').nullable();
    t.bigInteger('expires_at').notNullable();
    t.index(['job_id', 'connection'], 'job_attempts_job_index');
    t.index(['expires_at'], 'job_attempts_expires_at_index');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('job_attempts');
  await knex.schema.dropTable('job_history');
}
