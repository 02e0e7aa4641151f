import type { Knex } from 'knex';

/*
 * Circuit breakers shared by every worker on the storage (src/flow/breakers). One row per
 * breaker that has counted a failure or opened; a breaker with no row is closed. Times are epoch
 * milliseconds from the database clock, like the queue tables.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('breakers', (t) => {
    t.string('name', 190).primary();
    // closed | open | half-open
    t.string('state', 16).notNullable().defaultTo('closed');
    // Failures counted in the fixed window that started at window_started_at, window_ms long.
    t.integer('failures').notNullable().defaultTo(0);
    t.bigInteger('window_started_at').nullable();
    t.bigInteger('window_ms').nullable();
    t.bigInteger('opened_at').nullable();
    // Open: the end of the cooldown. Half-open: the end of the probe's lease.
    t.bigInteger('until_at').nullable();
    // Fencing: only the probe holding this token closes or re-opens a half-open breaker.
    t.string('probe_token', 64).nullable();
    t.bigInteger('updated_at').notNullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('breakers');
}
