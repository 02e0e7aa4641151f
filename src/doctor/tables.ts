/**
 * The tables the migrations create. `run doctor` checks that the PostgreSQL role may read and
 * write each. test/doctor.tables.test.ts compares these lists with the tables of a freshly
 * migrated database, so a migration that adds a table must add it here.
 */
export const JOBSMITH_TABLES = [
  'jobs',
  'job_uniques',
  'failed_jobs',
  'queue_settings',
  'jobsmith_meta',
  'schedule_slots',
  'schedule_leases',
  'rate_limits',
  'rate_limit_blocks',
  'breakers',
  'job_locks',
  'telegram_updates',
  'telegram_state',
  'telegram_chats',
  'telegram_scheduled_messages',
  'gpt_requests',
  'mail_receipts',
  'job_cancels',
  'job_metrics',
  'job_history',
  'job_attempts',
  'workers',
  'alert_states',
  'job_batches',
  'job_batch_jobs',
] as const;

/** knex's bookkeeping: every command reads them; only a migration writes them. */
export const MIGRATION_TABLES = ['jobsmith_migrations', 'jobsmith_migrations_lock'] as const;
