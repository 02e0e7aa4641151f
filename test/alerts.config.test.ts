/**
 * The config's `alerts`: the conditions built with `jobsmith/alerts`, checked when the config
 * loads, and every mistake reported with the alert's name and what to write instead.
 */
import { realpathSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load-config.js';
import { INTEGRATION_SECTIONS } from '../src/integrations.js';
import { configuredAlerts } from '../src/alerts/settings.js';
import { runCliInHost } from './helpers/cli-host.js';
import { appEnv } from './helpers/env.js';
import { tempDir, type TempDir } from './helpers/services.js';

let dir: TempDir;
let cwd: string;
beforeEach(() => {
  dir = tempDir('jobsmith-alerts-config-');
  cwd = realpathSync(dir.path);
});
afterEach(() => dir.cleanup());

const HINT =
  'Fix that alert in the config: docs/telemetry.md#alerts lists the conditions, the targets and what each takes.';

let loads = 0;
let file = '';

/**
 * Writes a config whose alerts are `alerts` (TypeScript source) and loads it, from a file of
 * its own: jiti keeps a module it loaded, so a rewritten file would not be read again.
 */
async function load(alerts: string) {
  file = path.join(cwd, `alerts-${++loads}.config.ts`);
  writeFileSync(
    file,
    `import { defineConfig } from 'jobsmith';
import { queueSize, failureRate, failures, sendFailures, waitTime, breakerOpen, noWorker } from 'jobsmith/alerts';
export default defineConfig({ alerts: ${alerts} } as any);
`,
  );
  return loadConfig(cwd, file, INTEGRATION_SECTIONS);
}

/** The config error `alerts` gives: its message after the file name, and its hint. */
async function problem(alerts: string): Promise<{ message: string; hint?: string }> {
  const error = await load(alerts).then(
    () => undefined,
    (e: { message: string; hint?: string }) => e,
  );
  if (!error) throw new Error('the config loaded');
  const prefix = `Invalid config in ${file}: `;
  expect(error.message.startsWith(prefix)).toBe(true);
  return { message: error.message.slice(prefix.length), hint: error.hint };
}

describe('alerts in the config', () => {
  it('resolves every kind of condition with its defaults, durations in ms', async () => {
    const { config } = await load(`[
      { name: 'backlog', when: queueSize('telegram').above(1000).for('5m'), notify: ['telegram:-1001234567890', 'telegram:support:42', 'telegram:@ops_channel'] },
      { name: 'gpt', when: failureRate('gpt', { minAttempts: 10 }).above(0.2).over('10m'), notify: ['mail:ops@example.com'], cooldown: 60 },
      { name: 'gpt-job', when: failureRate({ job: 'gpt.complete' }).above(0.5), notify: ['webhook:https://hooks.slack.com/services/T0/B0/secret'] },
      { name: 'errors', when: failures().above(100).over('1h').for('2m'), notify: ['mail:ops@example.com'] },
      { name: 'sends', when: sendFailures().above(50).over('5m'), notify: ['mail:ops@example.com'] },
      { name: 'slow', when: waitTime('default').above('60s'), notify: ['mail:ops@example.com'] },
      { name: 'openai', when: breakerOpen('openai', { connection: 'redis' }), notify: ['mail:ops@example.com'] },
      { name: 'mailers', when: noWorker('mail').for(120), notify: ['mail:ops@example.com'] },
    ]`);
    const alerts = configuredAlerts(config.alerts);
    expect(alerts.map((a) => [a.name, a.description, a.condition, a.cooldownMs])).toEqual([
      [
        'backlog',
        'queueSize(telegram) > 1000 for 5m',
        {
          type: 'queueSize',
          queue: 'telegram',
          connection: undefined,
          above: 1000,
          forMs: 300_000,
        },
        300_000,
      ],
      [
        'gpt',
        'failureRate(queue gpt) > 0.2 over 10m',
        {
          type: 'failureRate',
          queue: 'gpt',
          job: undefined,
          above: 0.2,
          minAttempts: 10,
          overMs: 600_000,
          forMs: 0,
        },
        60_000,
      ],
      [
        'gpt-job',
        'failureRate(job gpt.complete) > 0.5 over 5m',
        {
          type: 'failureRate',
          queue: undefined,
          job: 'gpt.complete',
          above: 0.5,
          minAttempts: 1,
          overMs: 300_000,
          forMs: 0,
        },
        300_000,
      ],
      [
        'errors',
        'failures(all jobs) > 100 over 1h for 2m',
        {
          type: 'failures',
          queue: undefined,
          job: undefined,
          above: 100,
          overMs: 3_600_000,
          forMs: 120_000,
        },
        300_000,
      ],
      [
        'sends',
        'sendFailures() > 50 over 5m',
        { type: 'sendFailures', job: 'telegram.send', above: 50, overMs: 300_000, forMs: 0 },
        300_000,
      ],
      [
        'slow',
        'waitTime(default) > 60s over 5m',
        { type: 'waitTime', queue: 'default', aboveMs: 60_000, overMs: 300_000, forMs: 0 },
        300_000,
      ],
      [
        'openai',
        'breakerOpen(openai)',
        { type: 'breakerOpen', breaker: 'openai', connection: 'redis', forMs: 0 },
        300_000,
      ],
      [
        'mailers',
        'noWorker(mail) for 120s',
        { type: 'noWorker', queue: 'mail', forMs: 120_000 },
        300_000,
      ],
    ]);
    expect(alerts[0]!.targets).toEqual([
      { type: 'telegram', text: 'telegram:-1001234567890', chatId: -1001234567890 },
      { type: 'telegram', text: 'telegram:support:42', chatId: 42, bot: 'support' },
      { type: 'telegram', text: 'telegram:@ops_channel', chatId: '@ops_channel' },
    ]);
    expect(alerts[2]!.targets).toEqual([
      {
        type: 'webhook',
        text: 'webhook:https://hooks.slack.com/services/T0/B0/secret',
        url: 'https://hooks.slack.com/services/T0/B0/secret',
      },
    ]);
  });

  it('a measure without a threshold names the alert and shows the call to add', async () => {
    expect(
      await problem(`[{ name: 'backlog', when: queueSize('telegram'), notify: ['telegram:42'] }]`),
    ).toEqual({
      message:
        "alert \"backlog\": when: queueSize('telegram') has no threshold; add one: queueSize('telegram').above(1000).",
      hint: HINT,
    });
  });

  it('bad durations, thresholds and targets are all reported, each with what it takes', async () => {
    expect(
      (
        await problem(`[{
          name: 'gpt',
          when: failureRate('gpt').above(20).over('10s').for('5x'),
          notify: ['slack:#ops', 'mail:ops', 'telegram:0', 'webhook:ftp://example.com/x'],
          cooldown: '9d',
        }]`)
      ).message,
    ).toBe(
      'alert "gpt": ' +
        [
          'when: failureRate().above() takes a ratio from 0 to 1 (0.2 for 20%), not a percentage',
          'when: .over("10s") is not a duration from 1m to 7d; use seconds (90) or a number with a unit: 500ms, 30s, 5m, 2h, 1d',
          'when: .for("5x") is not a duration of at most 7d; use seconds (90) or a number with a unit: 500ms, 30s, 5m, 2h, 1d',
          'notify[0]: "slack:#ops" is not a target; use telegram:CHAT_ID (or telegram:BOT:CHAT_ID), mail:ADDRESS or webhook:https://URL',
          'notify[1]: "mail:ops" is not a mail target; use mail:ADDRESS with one address (mail:ops@example.com)',
          'notify[2]: "telegram:0": a Telegram chat id is never 0',
          'notify[3]: "webhook:ftp://example.com/…": a webhook URL starts with https:// (or http://)',
          'cooldown "9d" is not a duration of at most 7d; use seconds (90) or a number with a unit: 500ms, 30s, 5m, 2h, 1d',
        ].join('; ') +
        '.',
    );
  });

  it('a condition that is not one, an unknown field, a bad name and a duplicate are named', async () => {
    expect(
      (
        await problem(`[
          { name: 'a', when: 'queueSize > 5', notify: ['mail:ops@example.com'], cooldwn: '5m' },
        ]`)
      ).message,
    ).toBe(
      "alert \"a\": when must be a condition from 'jobsmith/alerts': queueSize('telegram').above(1000).for('5m'), failureRate('gpt').above(0.2).over('10m'), breakerOpen('openai'), sendFailures().above(50), waitTime('default').above('60s') or noWorker('mail'); unknown field \"cooldwn\"; the fields are name, when, notify, cooldown, queue.",
    );
    expect(
      (await problem(`[{ name: 'no spaces', when: noWorker('mail'), notify: [] }]`)).message,
    ).toBe(
      'alerts[0]: name is letters, digits and . _ - (at most 100); notify needs at least one target: telegram:CHAT_ID (or telegram:BOT:CHAT_ID), mail:ADDRESS or webhook:https://URL.',
    );
    expect(
      (
        await problem(`[
          { name: 'a', when: noWorker('mail'), notify: ['mail:ops@example.com'] },
          { name: 'a', when: noWorker('x:y'), notify: ['mail:ops@example.com'] },
          { name: 'a', when: breakerOpen('openai'), notify: ['mail:ops@example.com'] },
        ]`)
      ).message,
    ).toBe(
      'alert "a": when: noWorker("x:y"): the queue holds ":", which Redis keeps as its key separator; use letters, digits and . _ - (at most 190 characters); two alerts are named "a"; alert names must be unique.',
    );
    expect((await problem(`{ name: 'a' }`)).message).toBe(
      "`alerts` must be an array: [{ name: 'telegram-backlog', when: queueSize('telegram').above(1000).for('5m'), notify: ['telegram:123456'] }].",
    );
  });

  it('run alerts:check stops on a target this app cannot send, naming the alert and the fix (exit 1)', async () => {
    writeFileSync(
      path.join(cwd, 'jobsmith.config.ts'),
      `import { defineConfig } from 'jobsmith';
import { noWorker } from 'jobsmith/alerts';
export default defineConfig({
  alerts: [{ name: 'mailers', when: noWorker('mail'), notify: ['telegram:42', 'mail:ops@example.com'] }],
});
`,
    );
    const result = await runCliInHost(['alerts:check'], { cwd, env: appEnv() });
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      'Error: Cannot notify: alert "mailers" notifies telegram:42, but the config has no `telegram` section: add telegram: {} to defineConfig (the workers of its send queue need TELEGRAM_BOT_TOKEN); alert "mailers" notifies mail:ops@example.com, but mail is not configured: add mail: {} to defineConfig or set MAIL_URL (the workers of the mail queue need MAIL_URL and MAIL_FROM).\n' +
        `${HINT}\n`,
    );
    expect(result.code).toBe(1);
  });

  it('run alerts:check refuses a telegram:BOT:CHAT target whose bot the config does not name', async () => {
    writeFileSync(
      path.join(cwd, 'jobsmith.config.ts'),
      `import { defineConfig } from 'jobsmith';
import { noWorker } from 'jobsmith/alerts';
export default defineConfig({
  telegram: {},
  alerts: [{ name: 'mailers', when: noWorker('mail'), notify: ['telegram:support:42', 'telegram:default:42'] }],
});
`,
    );
    const result = await runCliInHost(['alerts:check'], { cwd, env: appEnv() });
    expect(result.stderr).toBe(
      'Error: Cannot notify: alert "mailers" notifies telegram:support:42, but the config names no bot "support" (telegram.bots: none).\n' +
        `${HINT}\n`,
    );
    expect(result.code).toBe(1);
  });
});
