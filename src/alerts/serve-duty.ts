/*
 * Alert checks as a duty of `run metrics:serve` (src/telemetry/duties.ts): once a minute, each
 * change printed and logged as `schedule:work` prints it (watch.ts).
 */
import type { App } from '../cli/app.js';
import type { ServeDuty } from '../telemetry/duties.js';
import type { AlertChecks } from './duty.js';
import { watchAlerts } from './watch.js';

/** The duty, or undefined for an app whose config has no alerts. */
export async function alertsDuty(app: App): Promise<ServeDuty | undefined> {
  if (!(await app.config()).config.alerts?.length) return undefined;
  let checks: AlertChecks | undefined;
  return {
    name: 'alerts',
    async start({ app: running }) {
      checks = await watchAlerts(running, { json: false });
    },
    async stop() {
      await checks?.stop();
    },
  };
}
