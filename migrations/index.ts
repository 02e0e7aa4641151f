import type { Knex } from 'knex';
import * as m0001 from './0001_create_queue_tables.js';
import * as m0002 from './0002_create_schedule_tables.js';
import * as m0003 from './0003_jobs_fillfactor.js';
import * as m0004 from './0004_fair_claims.js';
import * as m0005 from './0005_failed_jobs_unique.js';
import * as m0006 from './0006_rate_limits.js';
import * as m0007 from './0007_breakers.js';
import * as m0008 from './0008_job_locks.js';
import * as m0009 from './0009_telegram_updates.js';
import * as m0010 from './0010_telegram_sending.js';
import * as m0011 from './0011_gpt_requests.js';
import * as m0012 from './0012_mail_receipts.js';
import * as m0013 from './0013_rate_limit_slots.js';
import * as m0014 from './0014_job_tags_progress.js';
import * as m0015 from './0015_job_history.js';
import * as m0016 from './0016_job_cancels.js';
import * as m0017 from './0017_workers.js';
import * as m0018 from './0018_job_metrics.js';
import * as m0019 from './0019_failed_jobs_tags.js';
import * as m0020 from './0020_alert_states.js';
import * as m0021 from './0021_job_headers.js';
import * as m0022 from './0022_rate_limit_take_clock.js';
import * as m0023 from './0023_dashboard_indexes.js';
import * as m0024 from './0024_job_batches.js';
import * as m0025 from './0025_job_chains.js';
import * as m0026 from './0026_failed_jobs_headers.js';

export interface Migration {
  name: string;
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
}

/**
 * Every migration, in order. Append only: a released migration is never edited; a change is
 * a new numbered file added at the end of this list.
 */
export const migrations: Migration[] = [
  { name: '0001_create_queue_tables', ...m0001 },
  { name: '0002_create_schedule_tables', ...m0002 },
  { name: '0003_jobs_fillfactor', ...m0003 },
  { name: '0004_fair_claims', ...m0004 },
  { name: '0005_failed_jobs_unique', ...m0005 },
  { name: '0006_rate_limits', ...m0006 },
  { name: '0007_breakers', ...m0007 },
  { name: '0008_job_locks', ...m0008 },
  { name: '0009_telegram_updates', ...m0009 },
  { name: '0010_telegram_sending', ...m0010 },
  { name: '0011_gpt_requests', ...m0011 },
  { name: '0012_mail_receipts', ...m0012 },
  { name: '0013_rate_limit_slots', ...m0013 },
  { name: '0014_job_tags_progress', ...m0014 },
  { name: '0015_job_history', ...m0015 },
  { name: '0016_job_cancels', ...m0016 },
  { name: '0017_workers', ...m0017 },
  { name: '0018_job_metrics', ...m0018 },
  { name: '0019_failed_jobs_tags', ...m0019 },
  { name: '0020_alert_states', ...m0020 },
  { name: '0021_job_headers', ...m0021 },
  { name: '0022_rate_limit_take_clock', ...m0022 },
  { name: '0023_dashboard_indexes', ...m0023 },
  { name: '0024_job_batches', ...m0024 },
  { name: '0025_job_chains', ...m0025 },
  { name: '0026_failed_jobs_headers', ...m0026 },
];
