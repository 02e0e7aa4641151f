import { withApp } from '../src/cli/app.js';
import { globals, newCommand } from '../src/cli/command.js';
import { paint, printJson, printTable, say } from '../src/cli/output.js';
import { formatDuration } from '../src/util/duration.js';
import { workerJson } from '../src/workers/present.js';
import {
  PRUNE_AFTER_MS,
  STALE_AFTER_MS,
  workersReport,
  type WorkerReport,
} from '../src/workers/report.js';

/** Current jobs shown per worker in the table; --json lists them all. */
const SHOWN_JOBS = 3;

export default function command() {
  return newCommand(
    'workers:list',
    'Show running workers: queues, uptime, last heartbeat, counts, current jobs',
    'run workers:list --json',
  )
    .option('--json', 'print the workers as a JSON array')
    .addHelpText(
      'after',
      `\nEvery queue:work of every connection registers itself in SQL storage and rewrites its entry every
few seconds. An entry without a heartbeat for ${STALE_AFTER_MS / 1000}s is marked stale (the worker died or lost the
storage); workers delete stale entries ${PRUNE_AFTER_MS / 3_600_000}h after their last heartbeat. Processed counts every job
that ended an attempt on the worker (succeeded, failed, retried, cancelled, skipped); failed, those
that failed for good.\n`,
    )
    .action(async (opts) =>
      withApp(globals(opts), async (app) => {
        const report = await workersReport((await app.db()).knex);
        if (opts.json) return printJson(report.map(workerJson));
        if (report.length === 0) return say('No worker is registered.');
        await printTable(
          [
            'Name',
            'Host',
            'PID',
            'Queues',
            'Concurrency',
            'Uptime',
            'Heartbeat',
            'Processed',
            'Failed',
            'Current jobs',
          ],
          report.map((w) => [
            w.name,
            w.host,
            w.pid,
            w.queues.join(','),
            w.concurrency,
            formatDuration(w.uptimeMs),
            heartbeatCell(w),
            w.processed,
            w.failed,
            currentCell(w),
          ]),
        );
        const stale = report.filter((w) => w.stale).length;
        if (stale > 0) {
          say(
            paint.dim(
              `${stale} stale: no heartbeat for over ${STALE_AFTER_MS / 1000}s (the worker died or cannot reach the storage).`,
            ),
          );
        }
      }),
    );
}

function heartbeatCell(w: WorkerReport): string {
  const ago = `${formatDuration(w.heartbeatAgeMs)} ago`;
  return w.stale ? paint.red(`${ago} (stale)`) : ago;
}

/** `2: mail.send, report.build` (the first SHOWN_JOBS names, `…` when there are more). */
function currentCell(w: WorkerReport): string {
  if (w.running === 0) return '0';
  const names = w.currentJobs.slice(0, SHOWN_JOBS).map((j) => j.name);
  const more = w.running > names.length ? ', …' : '';
  return `${w.running}: ${names.join(', ')}${more}`;
}
