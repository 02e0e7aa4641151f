import type { Knex } from 'knex';

/*
 * Telegram's durable update intake (src/telegram, docs/telegram.md).
 *
 * telegram_updates: every update `run longpoll` received, one row per (bot, update_id), written
 * in the same transaction that advances the bot's offset, so an update Telegram considers
 * delivered is always stored. The row is also the outbox of its `telegram.update` job: status
 * received (stored, no job yet) → queued (job dispatched, job_id set) → handled | failed.
 * Deduplication is on (bot, update_id), never on "ids below the last": Telegram restarts ids
 * from a random value after a week without updates.
 *
 * telegram_state: per bot, the offset to ask for next and the poller lease (one `run longpoll`
 * per bot: the owner's token, and when the lease runs out on the database clock).
 *
 * Times are epoch milliseconds, like the queue tables.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('telegram_updates', (t) => {
    t.bigIncrements('id').primary();
    // The bot's id: the digits of its token before ':'.
    t.string('bot', 32).notNullable();
    t.bigInteger('update_id').notNullable();
    // message, callback_query... (the update's one key besides update_id).
    t.string('type', 64).notNullable();
    // Chat ids have up to 52 significant bits: bigint.
    t.bigInteger('chat_id').nullable();
    t.text('update').notNullable();
    t.bigInteger('received_at').notNullable();
    t.string('status', 16).notNullable();
    t.text('error').nullable();
    t.string('job_id', 190).nullable();
    t.bigInteger('handled_at').nullable();
    t.unique(['bot', 'update_id']);
    // The outbox scan (received rows of a bot) and `telegram:updates --status`.
    t.index(['bot', 'status', 'id']);
    t.index(['status', 'id']);
  });
  await knex.schema.createTable('telegram_state', (t) => {
    t.string('bot', 32).primary();
    // The next getUpdates offset (last stored update_id + 1); null before the first batch.
    t.bigInteger('next_offset').nullable();
    t.string('owner', 190).nullable();
    t.string('owner_token', 64).nullable();
    t.bigInteger('lease_until').nullable();
    t.bigInteger('updated_at').notNullable();
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('telegram_state');
  await knex.schema.dropTable('telegram_updates');
}
