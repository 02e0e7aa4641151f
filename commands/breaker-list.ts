import { withApp } from '../src/cli/app.js';
import { globals, newCommand } from '../src/cli/command.js';
import { paint, printJson, printTable, say } from '../src/cli/output.js';
import { breakerJson } from '../src/flow/breakers/present.js';
import { breakerReport, type BreakerReport } from '../src/flow/breakers/report.js';
import { connectionFlag } from '../src/queue/names.js';
import { formatDurationInput } from '../src/util/duration.js';

export default function command() {
  return newCommand(
    'breaker:list',
    'Show each circuit breaker: state, failures in the window, opened at and until when',
    'run breaker:list --json',
  )
    .option(
      '--connection <name>',
      'queue connection whose storage holds the breakers (default: QUEUE_CONNECTION)',
      connectionFlag('--connection'),
    )
    .option('--json', 'print the breakers as a JSON array')
    .addHelpText(
      'after',
      '\nUntil: open, when the cooldown ends; half-open, when the probe job\'s lease ends, or "next job probes"\nwhen the cooldown is over and no job has come to probe yet (until is null in --json).\n',
    )
    .action(async (opts) =>
      withApp(globals(opts), async (app) => {
        // The registry, not the config's jobs: built-in jobs (gpt.complete) declare breakers too.
        const jobs = (await app.registry()).all();
        const driver = await app.queues().get(opts.connection);
        const report = await breakerReport(jobs, driver.flow().breakers);
        if (opts.json) return printJson(report.map(breakerJson));
        if (report.length === 0) {
          return say(
            'No circuit breakers: no job declares one (defineJob({ breaker })) and none is stored.',
          );
        }
        await printTable(
          ['Name', 'State', 'Failures', 'Opened at', 'Until', 'Jobs'],
          report.map((r) => [
            r.name,
            stateCell(r),
            failuresCell(r),
            time(r.status.openedAt),
            untilCell(r),
            r.jobs.join(', ') || paint.dim('(none in the config)'),
          ]),
        );
      }),
    );
}

function stateCell(r: BreakerReport): string {
  const { state, probing } = r.status;
  if (state === 'open') return paint.red('open');
  if (state === 'half-open') return paint.yellow(probing ? 'half-open (probing)' : 'half-open');
  return paint.green('closed');
}

/**
 * Open: when the cooldown ends; half-open and probing: when the probe's lease ends. Half-open
 * with nobody probing (the cooldown is over, no job of the breaker has come since) has no time:
 * the next of its jobs a worker picks up probes it.
 */
function untilCell(r: BreakerReport): string {
  const { state, probing, until } = r.status;
  if (state === 'half-open' && !probing) return paint.dim('next job probes');
  return time(until);
}

function failuresCell(r: BreakerReport): string {
  if (!r.settings) return String(r.status.failures);
  return `${r.status.failures}/${r.settings.failures} in ${formatDurationInput(r.settings.windowMs)}`;
}

const time = (ms: number | null) => (ms === null ? '' : new Date(ms).toISOString());
