import type { Knex } from 'knex';

/*
 * job_metrics: what workers did, per minute (`minute`: epoch ms of the minute's start), per
 * queue and per job name, whatever backend holds the jobs. Workers add their counts to a row
 * with an additive upsert every few seconds (src/metrics/recorder.ts); `run queue:stats` sums
 * rows over a range. Counts are of attempts' ends: processed = succeeded + failed + cancelled +
 * skipped (jobs that finished); retried = attempts that failed and were released to run again
 * (an attempt spent); deferred = releases by RetryAfter (a rate limit, an open breaker: no
 * attempt spent); abandoned = attempts put back at shutdown or after a lost lease. The runtime histogram has fixed buckets
 * (src/metrics/buckets.ts), so rows add up and a p95 can be read from any range. Rows older
 * than METRICS_RETENTION are deleted by workers.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.schema.createTable('job_metrics', (t) => {
    t.bigInteger('minute').notNullable();
    t.string('queue', 190).notNullable();
    t.string('name', 190).notNullable();
    for (const column of [
      'processed',
      'succeeded',
      'failed',
      'retried',
      'deferred',
      'cancelled',
      'skipped',
      'abandoned',
      'runtime_count',
    ]) {
      t.integer(column).notNullable().defaultTo(0);
    }
    t.bigInteger('runtime_sum_ms').notNullable().defaultTo(0);
    t.bigInteger('runtime_max_ms').notNullable().defaultTo(0);
    // Written out, not imported from src/metrics/buckets.ts: a released migration never changes.
    for (const column of [
      'rt_le_10ms',
      'rt_le_50ms',
      'rt_le_100ms',
      'rt_le_250ms',
      'rt_le_500ms',
      'rt_le_1s',
      'rt_le_2500ms',
      'rt_le_5s',
      'rt_le_10s',
      'rt_le_30s',
      'rt_le_1m',
      'rt_le_2m',
      'rt_gt_2m',
    ]) {
      t.integer(column).notNullable().defaultTo(0);
    }
    t.bigInteger('wait_sum_ms').notNullable().defaultTo(0);
    t.integer('wait_count').notNullable().defaultTo(0);
    t.primary(['minute', 'queue', 'name']);
  });
}

export async function down(knex: Knex): Promise<void> {
  await knex.schema.dropTable('job_metrics');
}
