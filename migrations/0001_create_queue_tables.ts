import type { Knex } from 'knex';

/*
 * Times are integer milliseconds since the epoch in both dialects, taken from the database
 * clock, so every comparison (available_at <= now) is one integer comparison.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('jobs', (t) => {
    t.bigIncrements('id').primary();
    t.string('queue', 190).notNullable();
    t.string('name', 190).notNullable();
    t.text('payload').notNullable();
    t.integer('priority').notNullable().defaultTo(0);
    t.integer('attempts').notNullable().defaultTo(0);
    t.integer('max_tries').notNullable();
    // When the job may next be claimed. While a job is reserved this is its lease expiry, so
    // "claimable" is one range condition whether a job is new, delayed or orphaned.
    t.bigInteger('available_at').notNullable();
    // Set while a worker holds the job; null when it waits.
    t.bigInteger('reserved_at').nullable();
    // Fencing token of the current claim.
    t.string('token', 64).nullable();
    t.string('unique_key', 190).nullable();
    t.text('last_error').nullable();
    t.bigInteger('created_at').notNullable();
  });
  // The claim orders by priority (high first), then id, within one queue, and this index
  // matches that order so the claim reads rows in order and stops at its limit. There is
  // deliberately no (queue, available_at) index: planners prefer it for the range condition and
  // then sort the whole queue on every claim.
  await knex.raw('create index jobs_claim_idx on jobs (queue, priority desc, id)');

  await knex.schema.createTable('job_uniques', (t) => {
    t.string('key', 190).primary();
    t.string('job_id', 64).notNullable().index();
    t.bigInteger('expires_at').notNullable();
  });

  await knex.schema.createTable('failed_jobs', (t) => {
    t.bigIncrements('id').primary();
    t.string('uuid', 36).notNullable().unique();
    t.string('connection', 32).notNullable();
    t.string('queue', 190).notNullable();
    t.string('name', 190).notNullable();
    t.text('payload').notNullable();
    t.text('exception').notNullable();
    // error | poison | max_attempts | timeout
    t.string('reason', 32).notNullable().defaultTo('error');
    t.integer('attempts').notNullable();
    t.integer('priority').notNullable().defaultTo(0);
    t.string('original_id', 64).nullable();
    t.bigInteger('failed_at').notNullable();
    t.index(['failed_at']);
    t.index(['queue', 'name']);
  });

  await knex.schema.createTable('queue_settings', (t) => {
    t.string('queue', 190).primary();
    t.boolean('paused').notNullable().defaultTo(false);
    t.bigInteger('updated_at').notNullable();
  });

  // Small key/value facts shared by all workers (e.g. restart_requested_at).
  await knex.schema.createTable('jobsmith_meta', (t) => {
    t.string('key', 190).primary();
    t.text('value').notNullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('jobsmith_meta');
  await knex.schema.dropTable('queue_settings');
  await knex.schema.dropTable('failed_jobs');
  await knex.schema.dropTable('job_uniques');
  await knex.schema.dropTable('jobs');
}
