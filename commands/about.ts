import { DURATION_VARS, SECRET_VARS } from '../src/config/env.js';
import {
  aboutBreakers,
  aboutRateLimits,
  breakerText,
  rateLimitText,
} from '../src/config/flow-report.js';
import { reportQueues, text, unmatchedQueueVariables } from '../src/config/queue-report.js';
import { withApp } from '../src/cli/app.js';
import { globals, newCommand } from '../src/cli/command.js';
import { paint, printJson, say } from '../src/cli/output.js';
import { maskUrl } from '../src/logging/redact.js';
import { isSecretSetting } from '../src/logging/secrets.js';
import { formatDurationInput } from '../src/util/duration.js';
import { packageVersion } from '../src/util/package.js';

/** The settings `run about` prints for each queue, in order. */
const QUEUE_FIELDS = ['tries', 'backoff', 'timeout', 'concurrency', 'globalConcurrency'] as const;

export default function command() {
  return newCommand('about', 'Show the effective configuration, secrets masked', 'run about --json')
    .option('--json', 'print JSON')
    .action(async (opts) =>
      withApp(globals(opts), async (app) => {
        const { file, config, rateLimits } = await app.config();
        // Durations as the variable takes them (`1m`, not 60000: a bare number means seconds).
        const env = Object.fromEntries(
          Object.entries(app.env).map(([key, value]) => [
            key,
            SECRET_VARS.has(key) && typeof value === 'string'
              ? maskUrl(value)
              : isSecretSetting(key) && typeof value === 'string'
                ? '***'
                : DURATION_VARS.has(key) && typeof value === 'number'
                  ? formatDurationInput(value)
                  : value,
          ]),
        );
        const about = {
          version: packageVersion(),
          node: process.version,
          cwd: app.cwd,
          configFile: file ?? null,
          jobs: (config.jobs ?? []).map((j) => ({
            name: j.name,
            queue: j.queue,
            tries: j.tries,
            timeout: j.timeout,
          })),
          queues: reportQueues(config, app.rawEnv),
          rateLimits: aboutRateLimits(rateLimits),
          breakers: aboutBreakers(config.jobs ?? []),
          environment: env,
        };
        const unmatched = unmatchedQueueVariables(
          about.queues.map((q) => q.name),
          app.rawEnv,
        );
        if (opts.json) return printJson(about);
        say(paint.bold('jobsmith'));
        say(`  version      ${about.version}`);
        say(`  node         ${about.node}`);
        say(`  cwd          ${about.cwd}`);
        say(`  config file  ${about.configFile ?? paint.dim('(none found)')}`);
        say(paint.bold('Environment'));
        for (const [key, value] of Object.entries(env)) say(`  ${key.padEnd(18)} ${String(value)}`);
        say(paint.bold(`Jobs (${about.jobs.length})`));
        for (const j of about.jobs) {
          // A queue policy (the config's queues, QUEUE_<NAME>_*) wins over the job's own values
          // when a worker runs it: show what runs, and where it came from.
          const q = about.queues.find((x) => x.name === j.queue);
          const shown = (field: 'tries' | 'timeout', own: string) => {
            const set = q?.[field];
            return set && (set.source === 'queue' || set.source === 'env')
              ? `${text(set.value, field)} (${set.source}: ${set.from})`
              : own;
          };
          say(
            `  ${j.name.padEnd(30)} queue=${j.queue} tries=${shown('tries', String(j.tries))} timeout=${shown('timeout', `${j.timeout}s`)}`,
          );
        }
        say(paint.bold(`Queues (${about.queues.length})`));
        for (const q of about.queues) {
          say(`  ${q.name}`);
          for (const field of QUEUE_FIELDS) {
            const { value, source, from } = q[field];
            say(
              `    ${field.padEnd(17)} ${text(value, field).padEnd(12)} ${paint.dim(`${source}: ${from}`)}`,
            );
          }
        }
        for (const name of unmatched)
          say(paint.dim(`  ${name} is set but names none of these queues.`));
        say(paint.bold(`Rate limits (${about.rateLimits.length})`));
        for (const r of about.rateLimits) say(`  ${r.name.padEnd(30)} ${rateLimitText(r)}`);
        say(paint.bold(`Breakers (${about.breakers.length})`));
        for (const b of about.breakers) say(`  ${b.name.padEnd(30)} ${breakerText(b)}`);
      }),
    );
}
