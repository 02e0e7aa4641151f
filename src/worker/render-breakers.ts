import { paint } from '../cli/output.js';
import { printable } from '../logging/printable.js';
import { redact } from '../logging/redact.js';
import type { Logger } from '../logging/logger.js';
import { formatDuration } from '../util/duration.js';
import type { Worker } from './worker.js';

/**
 * Renders the circuit-breaker transitions a worker reports (src/flow/breakers): a log line each
 * (a warning when one opens), a JSON line with --json, else a readable line:
 *
 *     2025-01-02 10:00:00 BREAKER openai OPEN for 30.0s after 5 failure(s); job #12: HTTP 503
 *     2025-01-02 10:00:30 BREAKER openai HALF-OPEN job #13 probes it
 *     2025-01-02 10:00:31 BREAKER openai CLOSED its probe, job #13, succeeded
 */
export function renderBreakers(
  worker: Worker,
  options: {
    log: Logger;
    /** Writes a JSON line (with --json; a no-op otherwise). */
    json: (event: string, data: Record<string, unknown>) => void;
    /** Where readable lines go; undefined with --json. */
    out?: NodeJS.WritableStream;
  },
): void {
  const { log, json, out } = options;
  const line = (name: string, status: string, rest: string) => {
    if (!out) return;
    const time = new Date().toISOString().replace('T', ' ').slice(0, 19);
    out.write(redact(`${paint.dim(time)} BREAKER ${name} ${status} ${paint.dim(rest)}\n`));
  };
  worker.on('breaker:opened', (e) => {
    const error = e.error === undefined ? undefined : printable(e.error);
    const data = {
      name: e.name,
      failures: e.failures,
      until: new Date(e.until).toISOString(),
      reopened: e.reopened,
      jobId: e.jobId,
      ...(error === undefined ? {} : { error }),
    };
    log.warn({ breaker: data }, e.reopened ? 'breaker re-opened' : 'breaker opened');
    json('breaker:opened', data);
    const cause = `job #${e.jobId}${error === undefined ? '' : `: ${error}`}`;
    // The configured cooldown, not until − now: `until` is the storage's clock, read a round trip
    // ago (PostgreSQL printed 4.99s for a 5s cooldown).
    const wait = formatDuration(e.cooldownMs);
    line(
      e.name,
      paint.red('OPEN'),
      e.reopened
        ? `again for ${wait}: its probe failed; ${cause}`
        : `for ${wait} after ${e.failures} failure(s); ${cause}`,
    );
  });
  worker.on('breaker:half-open', (e) => {
    const data = { name: e.name, jobId: e.jobId };
    log.info({ breaker: data }, 'breaker half-open');
    json('breaker:half-open', data);
    line(e.name, paint.yellow('HALF-OPEN'), `job #${e.jobId} probes it`);
  });
  worker.on('breaker:closed', (e) => {
    const data = { name: e.name, jobId: e.jobId };
    log.info({ breaker: data }, 'breaker closed');
    json('breaker:closed', data);
    line(e.name, paint.green('CLOSED'), `its probe, job #${e.jobId}, succeeded`);
  });
}
