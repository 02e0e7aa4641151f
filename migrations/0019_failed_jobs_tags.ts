import type { Knex } from 'knex';

/*
 * A failed job keeps its tags (JSON text, as `jobs.tags`; null for none), so that `queue:retry`
 * puts it back with them and `queue:show` of a failed job lists them. Rows written before this
 * migration have none and retry without tags, as they did. A nullable column without a default:
 * adding it rewrites nothing on either dialect.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('failed_jobs', (t) => {
    t.text('tags').nullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('failed_jobs', (t) => {
    t.dropColumn('tags');
  });
}
