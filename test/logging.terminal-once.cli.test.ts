/**
 * On a terminal, a command that prints its own lines for its events (the scheduler's, the
 * poller's) shows each event once: their log lines go to LOG_FILE only, where pino's readable
 * copy on the terminal used to repeat each one.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApp, type TestApp } from './helpers/app.js';
import { runOnTerminal, terminalAvailable } from './helpers/terminal.js';

const SLOW = 60_000;

const CONFIG = `
import { defineConfig, defineJob, everyMinute } from 'jobsmith';

export const tick = defineJob({ name: 'tick.job', async handle() {} });

export default defineConfig({
  jobs: [tick],
  schedule: [{ name: 'tick', cron: everyMinute(), job: tick, payload: {} }],
});
`;

describe.skipIf(!terminalAvailable)('scheduler lines on a terminal', () => {
  let app: TestApp;
  beforeEach(async () => {
    app = await createApp('sqlite', CONFIG);
  }, SLOW);
  afterEach(() => app?.cleanup());

  it(
    'schedule:test shows the entry once, and logs it to LOG_FILE',
    async () => {
      const { code, output } = await runOnTerminal(['schedule:test', 'tick'], {
        cwd: app.cwd,
        env: { ...app.env, LOG_FILE: 'app.log' },
        timeoutMs: SLOW - 5_000,
      });
      expect(code, output).toBe(0);
      expect(output.match(/ tick /g), output).toHaveLength(2); // running, then done
      // pino's readable copies (INFO  schedule entry started ...) are gone from the terminal.
      expect(output).not.toMatch(/schedule entry (started|finished)/);
      const logged = readFileSync(path.join(app.cwd, 'app.log'), 'utf8');
      expect(logged).toContain('"msg":"schedule entry started"');
      expect(logged).toContain('"msg":"schedule entry finished"');
    },
    SLOW,
  );
});
