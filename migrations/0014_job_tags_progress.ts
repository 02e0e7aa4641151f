import type { Knex } from 'knex';

/*
 * Tags and progress of live jobs (issue 15, docs/lifecycle.md).
 *
 * - `tags`: the job's tags as a JSON array of strings (`dispatch(job, p, { tags })` and the
 *   job's `tags(payload)`), null when it has none. Read back by every claim (ClaimedJob.tags),
 *   filtered on by `queue:list --tag`; no index: a tag filter is an operator's listing, and an
 *   index would cost every push.
 * - `progress`: the latest `ctx.progress(...)` value as JSON text, null until the handler
 *   reports one. Written with the claim's token (fenced), at most a few times a second.
 *
 * Both are nullable columns without a default: adding them rewrites nothing on either dialect,
 * so the migration is instant on a large queue. Redis keeps tags in the job's `opts` and the
 * progress in BullMQ's own `progress` field of the job hash.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('jobs', (t) => {
    t.text('tags').nullable();
    t.text('progress').nullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('jobs', (t) => {
    t.dropColumn('progress');
    t.dropColumn('tags');
  });
}
