import { withApp } from '../src/cli/app.js';
import { globals, newCommand } from '../src/cli/command.js';
import { paint, printJson, printTable, say } from '../src/cli/output.js';
import { sinceFlag } from '../src/failed/flags.js';
import { readStats, type StatsRow } from '../src/metrics/stats.js';
import { choiceFlag, queueFlag } from '../src/queue/names.js';
import { formatDuration } from '../src/util/duration.js';

const DEFAULT_SINCE_MS = 3_600_000;

const AFTER_HELP = `
Workers count per minute, per queue and job, and write every few seconds (job_metrics, kept
METRICS_RETENTION). Throughput is jobs finished per minute over the whole range; runtimes are
per attempt that ran its handler; p95 is read from a fixed histogram (accurate to its bucket);
wait is from when a job could run to its start. See docs/lifecycle.md#metrics.

Exit codes: 0 shown (also when nothing was recorded); 1 the storage failed; 2 a bad flag.
`;

export default function command() {
  return newCommand(
    'queue:stats',
    'Show throughput, runtimes, retries, failure share and wait per queue or job',
    'run queue:stats --since 24h --by job --queue mail',
  )
    .option(
      '--since <when>',
      'from an ISO date/time, or within the last duration (default: 1h)',
      sinceFlag('--since'),
    )
    .option(
      '--by <what>',
      'one row per queue or per job',
      choiceFlag('--by', ['queue', 'job']),
      'queue',
    )
    .option('--queue <queue>', 'only this queue', queueFlag('--queue'))
    .option('--json', 'print { since, until, by, rows } with every count and average')
    .addHelpText('after', AFTER_HELP)
    .action(async (opts) =>
      withApp(globals(opts), async (app) => {
        const since = (opts.since as Date | undefined)?.getTime() ?? Date.now() - DEFAULT_SINCE_MS;
        const report = await readStats((await app.db()).knex, {
          since,
          by: opts.by,
          queue: opts.queue,
        });
        if (opts.json) return printJson(report);
        if (report.rows.length === 0) return say(`No job metrics since ${report.since}.`);
        await printTable(
          [
            opts.by === 'queue' ? 'Queue' : 'Job',
            'Jobs/min',
            'Processed',
            'Succeeded',
            'Failed',
            // So that a row adds up: processed is all four (src/metrics/stats.ts).
            'Cancelled',
            'Skipped',
            'Failure %',
            'Avg retries',
            'Avg runtime',
            'P95 runtime',
            'Avg wait',
          ],
          report.rows.map((r) => [
            (opts.by === 'queue' ? r.queue : r.name) ?? '',
            r.throughputPerMinute.toFixed(2),
            r.processed,
            r.succeeded,
            r.failed,
            r.cancelled,
            r.skipped,
            percent(r.failureShare),
            r.averageRetries === null ? '-' : r.averageRetries.toFixed(2),
            ms(r.averageRuntimeMs),
            ms(r.p95RuntimeMs),
            ms(r.averageWaitMs),
          ]),
        );
        say(paint.dim(`Since ${report.since} (${minutesOf(report)} min).`));
      }),
    );
}

function percent(share: StatsRow['failureShare']): string {
  return share === null ? '-' : `${(share * 100).toFixed(1)}%`;
}

function ms(value: number | null): string {
  return value === null ? '-' : formatDuration(value);
}

function minutesOf(report: { since: string; until: string }): number {
  return Math.round((Date.parse(report.until) - Date.parse(report.since)) / 60_000);
}
