import type { Knex } from 'knex';

/*
 * mail_receipts: the outcome of a `mail.send` job whose payload asked for one (`receipt`, a
 * UUID), for a sender that waits for it (`run test:email`), whatever backend holds the job:
 * sent (with the server's reply and the message id), retrying (an attempt failed, more to
 * come) or failed, with the error. The waiter deletes its rows once it has read them; rows are
 * written only for payloads that ask, so the table stays small.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('mail_receipts', (t) => {
    t.string('receipt', 36).primary();
    t.string('job_id', 190).notNullable();
    t.string('status', 16).notNullable();
    t.string('message_id', 998).nullable();
    t.text('response').nullable();
    t.text('error').nullable();
    t.integer('attempt').notNullable();
    t.bigInteger('updated_at').notNullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('mail_receipts');
}
