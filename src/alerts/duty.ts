/*
 * Alert checks as a background duty of a long-running command (`schedule:work`, and
 * `metrics:serve`): a round at start, then one every `intervalMs`, until stop(). A round that
 * fails (the storage is down) is reported and the next one tries again; rounds never overlap.
 * Several processes may run the duty on the same storage: each change still notifies once.
 *
 * ```ts
 * // in a command, loaded only when the config has alerts (config.alerts?.length):
 * const { startAlertChecks } = await import('../src/alerts/duty.js');
 * const checks = await startAlertChecks(app, { onError: (e) => app.log().error({ err: e }) });
 * // ...
 * await checks.stop();
 * ```
 */
import type { App } from '../cli/app.js';
import { sleep } from '../util/sleep.js';
import type { AlertResult } from './check.js';
import { openAlerts } from './open.js';

/** How often a duty checks unless told otherwise: once a minute, as cron would. */
export const CHECK_EVERY_MS = 60_000;

export interface AlertChecksOptions {
  /** Time between the starts of two rounds, in ms. @defaultValue 60000 */
  intervalMs?: number;
  /** After each round, with what it found and did (the changes in `event`, `notified`). */
  onCheck?: (round: { now: number; results: AlertResult[] }) => void;
  /** A round failed as a whole (the storage or the clock); the next round tries again. */
  onError?: (error: Error) => void;
}

export interface AlertChecks {
  /** Names of the alerts checked; empty when the config has none (the duty then does nothing). */
  readonly alerts: string[];
  /** Ends the duty: no new round; resolves when the round in progress, if any, is done. */
  stop(): Promise<void>;
}

/**
 * Starts checking the app's alerts.
 * @throws ConfigError before starting when an alert cannot be sent (see openAlerts).
 */
export async function startAlertChecks(
  app: App,
  options: AlertChecksOptions = {},
): Promise<AlertChecks> {
  const alerts = await openAlerts(app);
  const names = alerts.names();
  if (names.length === 0) return { alerts: names, stop: async () => {} };
  const intervalMs = options.intervalMs ?? CHECK_EVERY_MS;
  const stopping = new AbortController();
  const loop = (async () => {
    while (!stopping.signal.aborted) {
      const started = Date.now();
      try {
        const round = await alerts.check();
        options.onCheck?.(round);
      } catch (error) {
        options.onError?.(error as Error);
      }
      await sleep(Math.max(0, intervalMs - (Date.now() - started)), stopping.signal);
    }
  })();
  return {
    alerts: names,
    async stop() {
      stopping.abort();
      await loop;
    },
  };
}
