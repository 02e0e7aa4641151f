/*
 * Alert checks inside a long-running command (`schedule:work`, `metrics:serve`): the duty of
 * duty.ts, with what each round changed printed (a line, or a JSON line with --json) and
 * logged. Rounds that change nothing print nothing.
 */
import type { App } from '../cli/app.js';
import { paint } from '../cli/output.js';
import { redact } from '../logging/redact.js';
import { startAlertChecks, type AlertChecks } from './duty.js';
import { changeLine, logResult, resultJson } from './render.js';

export interface WatchOptions {
  /** JSON lines (`{ time, event: 'alert:fired', ... }`) instead of readable lines. */
  json: boolean;
  /** @defaultValue 60000 */
  intervalMs?: number;
  /** @defaultValue process.stdout */
  out?: NodeJS.WritableStream;
}

export function watchAlerts(app: App, options: WatchOptions): Promise<AlertChecks> {
  const out = options.out ?? process.stdout;
  const log = app.log();
  const stamp = () => new Date().toISOString();
  return startAlertChecks(app, {
    intervalMs: options.intervalMs,
    onCheck({ results }) {
      for (const result of results) {
        logResult(log, result);
        if (!result.event && !result.error && !result.notifyError && !result.resent) continue;
        if (options.json) {
          const event = result.error
            ? 'alert:error'
            : result.event
              ? `alert:${result.event}`
              : result.resent
                ? 'alert:resent'
                : 'alert:notify-error';
          out.write(`${JSON.stringify({ time: stamp(), event, alert: resultJson(result) })}\n`);
          continue;
        }
        const line = changeLine(result);
        if (line) out.write(`${paint.dim(stamp().replace('T', ' ').slice(0, 19))} ${line}\n`);
      }
    },
    onError(error) {
      log.error({ err: error }, 'alert check failed');
      const message = redact(error.message);
      out.write(
        options.json
          ? `${JSON.stringify({ time: stamp(), event: 'alert:check-failed', error: message })}\n`
          : `${paint.red('Alert check failed')} (the next one tries again): ${message}\n`,
      );
    },
  });
}
