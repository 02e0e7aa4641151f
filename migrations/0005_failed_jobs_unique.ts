import type { Knex } from 'knex';

/*
 * A failed unique job keeps its key and window, so that `queue:retry` puts it back holding its
 * key again, and keeps it failed while another live job holds that key (never two live copies
 * of one key). The window (`unique.for`, in ms) is kept on `jobs` too: the driver that moves a
 * job to failed_jobs only knows what the job's row holds. Rows written before this migration
 * have neither and retry as they did (without a key). Nullable columns without a default: on
 * PostgreSQL adding them rewrites nothing.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('jobs', (t) => {
    t.bigInteger('unique_for_ms').nullable();
  });
  await knex.schema.alterTable('failed_jobs', (t) => {
    t.string('unique_key', 190).nullable();
    t.bigInteger('unique_for_ms').nullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('failed_jobs', (t) => {
    t.dropColumn('unique_for_ms');
    t.dropColumn('unique_key');
  });
  await knex.schema.alterTable('jobs', (t) => {
    t.dropColumn('unique_for_ms');
  });
}
