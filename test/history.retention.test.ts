/**
 * Retention settings: how `retain` is checked on defineJob and on a queue's settings (a bad
 * value names the key and what it takes), how a job's and its queue's combine, and the writer's
 * markers for results JSON cannot hold.
 */
import { describe, expect, it } from 'vitest';
import { queueSettingsProblem } from '../src/config/queue-policies.js';
import { ConfigError } from '../src/errors.js';
import { defineJob } from '../src/jobs/define.js';
import { MAX_RESULT_CHARS, resultJson } from '../src/history/result-json.js';
import {
  DEFAULT_RETENTION,
  RetentionTable,
  resolveRetention,
  retainProblem,
} from '../src/history/retention.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const HELP =
  "seconds (3600), a duration such as '1h' or '7d' (units ms, s, m, h, d), or false to keep none";

describe('retain', () => {
  it('defaults to successes not kept, failures and cancels kept 7 days', () => {
    expect(resolveRetention(undefined, undefined)).toEqual({
      succeeded: 0,
      failed: 7 * DAY,
      cancelled: 7 * DAY,
    });
    expect(DEFAULT_RETENTION.succeeded).toBe(0);
  });

  it("takes the job's keys over its queue's, key by key, and seconds, durations or false", () => {
    expect(
      resolveRetention({ succeeded: '1h', failed: '30d' }, { succeeded: 60, cancelled: false }),
    ).toEqual({ succeeded: 60_000, failed: 30 * DAY, cancelled: 0 });
  });

  it('resolves each job and queue pair once, and says whether any job keeps successes', () => {
    let reads = 0;
    const table = new RetentionTable(
      (name) => {
        reads++;
        return name === 'keep' ? { succeeded: '1h' } : undefined;
      },
      () => undefined,
    );
    expect(table.get('keep', 'q').succeeded).toBe(HOUR);
    expect(table.get('keep', 'q').succeeded).toBe(HOUR);
    expect(reads).toBe(1);
    expect(table.keepsSucceeded(['other'], ['q'])).toBe(false);
    expect(table.keepsSucceeded(['other', 'keep'], ['q'])).toBe(true);
  });

  it.each([
    [
      'a duration with a unit it does not know',
      { succeeded: '1 week' },
      `retain.succeeded must be ${HELP}; got "1 week"`,
    ],
    ['a negative number', { failed: -1 }, `retain.failed must be ${HELP}; got -1`],
    ['true', { cancelled: true }, `retain.cancelled must be ${HELP}; got true`],
    [
      'an unknown key',
      { success: '1h' },
      'retain has unknown key "success"; the keys are succeeded, failed, cancelled',
    ],
    ['a string', '7d', "retain must be an object such as { succeeded: '1h', failed: '7d' }"],
  ])('refuses %s on defineJob, naming the job and the key', (_what, retain, problem) => {
    expect(retainProblem(retain, 'retain')).toBe(problem);
    let error: unknown;
    try {
      defineJob({ name: 'mail.send', retain: retain as never, handle: () => {} });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toBe(`Job mail.send: ${problem}.`);
  });

  it("refuses a bad duration in a queue's settings, naming the entry", () => {
    expect(queueSettingsProblem('mail', { retain: { succeeded: '2 hours' } })).toBe(
      `queues.mail.retain.succeeded must be ${HELP}; got "2 hours"`,
    );
    expect(queueSettingsProblem('mail', { tries: 3, retain: { failed: '14d' } })).toBeUndefined();
  });

  it('keeps a checked retain on the definition', () => {
    const job = defineJob({ name: 'a.job', retain: { succeeded: '1h' }, handle: () => {} });
    expect(job.retain).toEqual({ succeeded: '1h' });
  });
});

describe('results as history keeps them', () => {
  it('is the JSON text, or null when the handler returned nothing', () => {
    expect(resultJson({ a: [1, 'x'] })).toBe('{"a":[1,"x"]}');
    expect(resultJson(undefined)).toBeNull();
    expect(resultJson(() => 1)).toBeNull();
    expect(resultJson(null)).toBe('null');
  });

  it('is a marker for a value JSON cannot hold or one too large, never a throw', () => {
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    expect(JSON.parse(resultJson(cycle)!)).toEqual({
      $unserializable: expect.stringMatching(/^The result is not JSON: .*circular/i),
    });
    const throwing = {
      toJSON() {
        throw new Error('nope');
      },
    };
    expect(JSON.parse(resultJson(throwing)!)).toEqual({
      $unserializable: 'The result is not JSON: nope',
    });
    const big = 'x'.repeat(MAX_RESULT_CHARS);
    expect(JSON.parse(resultJson(big)!)).toEqual({
      $truncated: `The result's JSON is ${MAX_RESULT_CHARS + 2} characters, over the ${MAX_RESULT_CHARS} kept.`,
    });
  });
});
