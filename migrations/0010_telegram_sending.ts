import type { Knex } from 'knex';

/*
 * Telegram's sender and scheduled messages (src/telegram/send-job.ts, docs/telegram.md).
 *
 * telegram_chats: what the sender learnt about a chat, per bot: blocked (403: the user blocked
 * the bot, was deactivated, or the bot was kicked) with when and why, so later sends are skipped
 * without asking Telegram; the supergroup a group migrated to (400 with migrate_to_chat_id), so
 * later sends go there; and counters of sends, skips and failures.
 *
 * telegram_scheduled_messages: messages to send at a time. status pending → queued (claimed by
 * `run scheduled:dispatch`, job_id set once its telegram.send job is stored) → sent | failed;
 * cancelled by hand. claimed_at lets a later dispatch find rows a crash left queued without a job.
 *
 * Times are epoch milliseconds, like the queue tables. Chat ids are text: a bigint id or a
 * channel's @username.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('telegram_chats', (t) => {
    t.string('bot', 32).notNullable();
    t.string('chat_id', 64).notNullable();
    t.bigInteger('blocked_at').nullable();
    t.text('reason').nullable();
    t.string('migrated_to', 64).nullable();
    t.bigInteger('sent').notNullable().defaultTo(0);
    t.bigInteger('skipped').notNullable().defaultTo(0);
    t.bigInteger('failed').notNullable().defaultTo(0);
    t.bigInteger('updated_at').notNullable();
    t.primary(['bot', 'chat_id']);
  });
  await knex.schema.createTable('telegram_scheduled_messages', (t) => {
    t.bigIncrements('id').primary();
    // The bot's name in the config (or its id); null: the only bot.
    t.string('bot', 64).nullable();
    t.string('chat_id', 64).notNullable();
    t.string('method', 64).notNullable();
    t.text('params').notNullable();
    t.bigInteger('send_at').notNullable();
    t.string('status', 16).notNullable();
    t.string('job_id', 190).nullable();
    t.text('error').nullable();
    t.bigInteger('claimed_at').nullable();
    t.bigInteger('sent_at').nullable();
    t.bigInteger('created_at').notNullable();
    t.bigInteger('updated_at').notNullable();
    // The dispatcher's scan: due pending rows, oldest first.
    t.index(['status', 'send_at', 'id']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('telegram_scheduled_messages');
  await knex.schema.dropTable('telegram_chats');
}
