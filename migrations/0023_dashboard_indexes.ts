import type { Knex } from 'knex';

/*
 * Indexes for the dashboard's keyset pages (src/http/routes/), so that no page reads a whole
 * table:
 * - failed_jobs by queue or by job name, in id order (GET /api/failed?queue=...): the
 *   (queue, name) index of 0001 finds a queue's rows but not in id order, so every page would
 *   read and sort all of them. Failures are rare writes: two more entries each cost little.
 * - telegram_scheduled_messages by send time over every status (GET /api/telegram/scheduled
 *   without a status): 0010's index leads with the status.
 * Creating them reads each table once.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.alterTable('failed_jobs', (t) => {
    t.index(['queue', 'id'], 'failed_jobs_queue_id_index');
    t.index(['name', 'id'], 'failed_jobs_name_id_index');
  });
  await knex.schema.alterTable('telegram_scheduled_messages', (t) => {
    t.index(['send_at', 'id'], 'telegram_scheduled_send_at_id_index');
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.alterTable('telegram_scheduled_messages', (t) => {
    t.dropIndex(['send_at', 'id'], 'telegram_scheduled_send_at_id_index');
  });
  await knex.schema.alterTable('failed_jobs', (t) => {
    t.dropIndex(['name', 'id'], 'failed_jobs_name_id_index');
    t.dropIndex(['queue', 'id'], 'failed_jobs_queue_id_index');
  });
}
