import type { Knex } from 'knex';

/*
 * alert_states: where each alert of the config stands (src/alerts, `run alerts:check`), kept
 * in SQL storage whatever the queue backend, so that every checker (a cron `alerts:check`,
 * `schedule:work`, `metrics:serve`, on any host) and every restart sees the same state and an
 * alert notifies once per change. Times are epoch ms from the checker's clock (the database
 * clock).
 *
 * state: ok | pending (the condition holds, not yet for its `for`) | firing.
 * version: bumped by every change of state or notice; a checker changes a row only with
 * `where version = <the version it read>`, so of two checkers that saw the same row, one wins.
 * notice: a notification the winner of a change owes (`firing` or `resolved`), set in the same
 * UPDATE as the change and cleared once its jobs are queued; one left behind by a checker that
 * died in between is queued again by a later check.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('alert_states', (t) => {
    t.string('name', 190).primary();
    t.string('state', 16).notNullable();
    // Since when the condition has held without a break (state pending or firing).
    t.bigInteger('pending_since').nullable();
    // When the alert last started firing; kept after it resolves, with resolved_at.
    t.bigInteger('firing_since').nullable();
    t.bigInteger('resolved_at').nullable();
    t.bigInteger('last_notified_at').nullable();
    // What the condition measured at the last check: a queue size, a ratio, milliseconds...
    t.double('last_value').nullable();
    t.integer('version').notNullable().defaultTo(0);
    t.string('notice', 16).nullable();
    t.bigInteger('notice_at').nullable();
    t.bigInteger('updated_at').notNullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('alert_states');
}
