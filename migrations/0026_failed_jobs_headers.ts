import type { Knex } from 'knex';

/*
 * A failed job keeps its headers (JSON text, as `jobs.headers`; null for none), so that
 * `queue:retry` puts it back with them: a retried step of a chain goes on with its chain, and a
 * retried job keeps its trace link. Rows written before this migration have none and retry
 * without headers, as they did. A nullable column without a default: adding it rewrites nothing
 * on either dialect.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('failed_jobs', (t) => {
    t.text('headers').nullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('failed_jobs', (t) => {
    t.dropColumn('headers');
  });
}
