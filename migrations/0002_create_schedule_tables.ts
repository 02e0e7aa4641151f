import type { Knex } from 'knex';

/*
 * The scheduler's storage. Times are epoch milliseconds, like the queue tables; lease times
 * come from the database clock.
 */
export async function up(knex: Knex): Promise<void> {
  // One row per fired slot. The primary key is the whole point: two schedulers (two hosts, or
  // a cron line that overlaps schedule:work) insert the same (entry, slot, scope) and only one
  // insert succeeds, so only one fires it. scope is '*' for onOneServer, else the host name.
  await knex.schema.createTable('schedule_slots', (t) => {
    t.string('entry', 190).notNullable();
    t.bigInteger('slot_at').notNullable();
    t.string('scope', 190).notNullable();
    // host:pid of the scheduler that fired it.
    t.string('owner', 190).notNullable();
    t.bigInteger('started_at').notNullable();
    t.bigInteger('finished_at').nullable();
    // running | ok | failed | skipped
    t.string('outcome', 16).notNullable().defaultTo('running');
    t.text('detail').nullable();
    t.primary(['entry', 'slot_at', 'scope']);
    // Pruning deletes by age.
    t.index(['slot_at']);
  });

  // withoutOverlapping: at most one row per entry, held by the run in progress and renewed while
  // it runs. A row whose expires_at has passed is free to take, so a crashed run blocks the
  // entry for one lease length at most (not for a day, as a mutex without expiry would).
  await knex.schema.createTable('schedule_leases', (t) => {
    t.string('entry', 190).primary();
    t.string('owner', 190).notNullable();
    // Fencing: renew and release only touch the row while it still holds our token.
    t.string('token', 64).notNullable();
    t.bigInteger('acquired_at').notNullable();
    t.bigInteger('expires_at').notNullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('schedule_leases');
  await knex.schema.dropTable('schedule_slots');
}
