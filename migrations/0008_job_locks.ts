import type { Knex } from 'knex';

/*
 * Leased locks for the withoutOverlapping job middleware (src/flow/locks, docs/without-
 * overlapping.md). One row per key held: the holder's token fences renewals and releases, and
 * `expires_at` (epoch ms, the database clock) ends the lease if the holder dies without
 * releasing. A released lock is deleted; a row past its expiry is free, and the next acquire of
 * its key takes it over in place.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('job_locks', (t) => {
    // The job's name and its key, stored as an identity (src/util/stored-text.ts storableKey).
    t.string('key', 190).primary();
    t.string('token', 64).notNullable();
    t.bigInteger('expires_at').notNullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('job_locks');
}
