import type { Knex } from 'knex';

/*
 * Headers of live jobs: string key/values carried with a job from its dispatch to each of its
 * runs, beside the payload and never part of it. Today they hold the dispatch's trace context
 * (W3C `traceparent` and `tracestate`, src/telemetry/traces/) so that the span of a job's run
 * joins the trace that dispatched it, across processes and hosts.
 *
 * `headers` is JSON text (an object of strings), null for a job that carries none: every job
 * dispatched while tracing is off, and every row stored before this migration. A nullable
 * column without a default rewrites nothing on either dialect, so the migration is instant on a
 * large queue. Redis keeps the headers in the job's `opts`, as it keeps tags (no migration).
 *
 * Numbered 0021: 0019 and 0020 belong to the other parts of issue 16.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('jobs', (t) => {
    t.text('headers').nullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('jobs', (t) => {
    t.dropColumn('headers');
  });
}
