import type { Knex } from 'knex';

/*
 * The GPT requests of the built-in `gpt.complete` job (src/gpt, docs/gpt.md), one row per job,
 * written by the worker when each attempt ends: status retrying (an attempt failed, another
 * comes) → succeeded | failed. `response_text` is the reply, `response_json` its parsed JSON
 * when the payload asked for JSON; `latency_ms` the last attempt's response time;
 * `invalid_replies` the attempts whose reply did not parse or missed its schema (the job fails
 * at the third). In the SQL storage whatever QUEUE_CONNECTION says, like the Telegram tables.
 *
 * Times are epoch milliseconds, like the queue tables.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('gpt_requests', (t) => {
    t.bigIncrements('id').primary();
    t.string('job_id', 190).notNullable().unique();
    t.string('queue', 190).notNullable();
    t.string('model', 190).notNullable();
    t.string('status', 16).notNullable();
    t.integer('attempts').notNullable().defaultTo(0);
    // The messages sent, as JSON.
    t.text('prompt').notNullable();
    t.text('response_text').nullable();
    t.text('response_json').nullable();
    t.string('finish_reason', 32).nullable();
    t.integer('prompt_tokens').nullable();
    t.integer('completion_tokens').nullable();
    t.integer('latency_ms').nullable();
    t.integer('invalid_replies').notNullable().defaultTo(0);
    t.text('error').nullable();
    t.text('metadata').nullable();
    t.bigInteger('created_at').notNullable();
    t.bigInteger('updated_at').notNullable();
    t.bigInteger('finished_at').nullable();
    // `gpt:requests --status`, newest first.
    t.index(['status', 'id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('gpt_requests');
}
