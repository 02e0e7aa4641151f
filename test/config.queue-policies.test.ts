import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseEnv } from '../src/config/env.js';
import { loadConfig } from '../src/config/load-config.js';
import { INTEGRATION_SECTIONS } from '../src/integrations.js';
import { queuePolicy, queueVariable, sourcedPolicy } from '../src/config/queue-policies.js';
import { triesOf } from '../src/worker/executor.js';
import type { ClaimedJob } from '../src/queue/driver.js';
import { tempDir, type TempDir } from './helpers/services.js';

let dir: TempDir;
beforeEach(() => {
  dir = tempDir('jobsmith-policies-');
});
afterEach(() => dir.cleanup());

function catchError(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error');
}

let loads = 0;

/** Loads a config of these `queues` from a folder of its own (jiti caches a file it loaded). */
async function loadError(queues: string): Promise<Error> {
  const folder = path.join(dir.path, `app${++loads}`);
  mkdirSync(folder);
  writeFileSync(path.join(folder, 'jobsmith.config.ts'), `export default { queues: ${queues} };\n`);
  return loadConfig(folder, undefined, INTEGRATION_SECTIONS).then(
    () => {
      throw new Error('expected the config to be refused');
    },
    (error: Error) => error,
  );
}

describe('queue policy variables', () => {
  it('upper-cases the queue name and writes every other character as _', () => {
    expect(queueVariable('mail.high-1', 'tries')).toBe('QUEUE_MAIL_HIGH_1_TRIES');
    expect(queueVariable('rewrite', 'timeoutMs')).toBe('QUEUE_REWRITE_TIMEOUT');
    expect(queueVariable('rewrite', 'backoff')).toBe('QUEUE_REWRITE_BACKOFF');
    expect(queueVariable('rewrite', 'concurrency')).toBe('QUEUE_REWRITE_CONCURRENCY');
  });

  it('refuses tries of 0 and a negative timeout at start-up, naming each variable and value', () => {
    const error = catchError(() => parseEnv({ QUEUE_MAIL_TRIES: '0', QUEUE_MAIL_TIMEOUT: '-1' }));
    expect(error.message).toBe(
      'Invalid configuration: QUEUE_MAIL_TRIES="0" is not valid; expected a whole number from 1 to 1000000. ' +
        'QUEUE_MAIL_TIMEOUT="-1" is not valid; expected a positive duration: seconds (90) or a number with a unit: 500ms, 30s, 5m, 2h, 1d.',
    );
  });

  it('refuses a backoff that is not seconds and a concurrency past 1000', () => {
    expect(catchError(() => parseEnv({ QUEUE_MAIL_BACKOFF: '10s' })).message).toBe(
      'Invalid configuration: QUEUE_MAIL_BACKOFF="10s" is not valid; expected seconds or a comma list of seconds (10,30,60), each at most 100 years.',
    );
    expect(catchError(() => parseEnv({ QUEUE_MAIL_CONCURRENCY: '1001' })).message).toBe(
      'Invalid configuration: QUEUE_MAIL_CONCURRENCY="1001" is not valid; expected a whole number from 1 to 1000.',
    );
  });

  it('reads QUEUE_<NAME>_GLOBAL_CONCURRENCY as the global cap of <NAME>, refusing 0 and past 100,000', () => {
    expect(queueVariable('mail', 'globalConcurrency')).toBe('QUEUE_MAIL_GLOBAL_CONCURRENCY');
    const raw = { QUEUE_MAIL_GLOBAL_CONCURRENCY: '8' };
    expect(queuePolicy('mail', { globalConcurrency: 2 }, raw)).toEqual({ globalConcurrency: 8 });
    // Never the concurrency of a queue named mail_global.
    expect(queuePolicy('mail_global', {}, raw)).toEqual({});
    expect(catchError(() => parseEnv({ QUEUE_MAIL_GLOBAL_CONCURRENCY: '0' })).message).toBe(
      'Invalid configuration: QUEUE_MAIL_GLOBAL_CONCURRENCY="0" is not valid; expected a whole number from 1 to 100,000.',
    );
    expect(() => parseEnv({ QUEUE_MAIL_GLOBAL_CONCURRENCY: '100001' })).toThrow(
      'QUEUE_MAIL_GLOBAL_CONCURRENCY="100001" is not valid',
    );
    // 5000 is a valid global cap, though past the highest concurrency.
    expect(() => parseEnv({ QUEUE_MAIL_GLOBAL_CONCURRENCY: '5000' })).not.toThrow();
  });

  it('takes an empty variable as unset', () => {
    expect(() => parseEnv({ QUEUE_MAIL_TRIES: '' })).not.toThrow();
    expect(queuePolicy('mail', { tries: 4 }, { QUEUE_MAIL_TRIES: '' })).toEqual({ tries: 4 });
  });
});

describe('queue policy precedence', () => {
  const raw = {
    QUEUE_MAIL_TRIES: '7',
    QUEUE_MAIL_TIMEOUT: '2m',
    QUEUE_MAIL_BACKOFF: '5,10',
    QUEUE_MAIL_CONCURRENCY: '3',
  };

  it('takes the environment over the config', () => {
    expect(
      queuePolicy('mail', { tries: 2, timeout: 30, backoff: [1], concurrency: 8 }, raw),
    ).toEqual({ tries: 7, timeoutMs: 120_000, backoff: [5, 10], concurrency: 3 });
  });

  it('takes the config where the environment says nothing, timeouts in seconds or as a duration', () => {
    expect(sourcedPolicy('mail', { tries: 2, timeout: '30s' }, {})).toEqual({
      tries: { value: 2, source: 'queue', from: 'queues.mail.tries' },
      timeoutMs: { value: 30_000, source: 'queue', from: 'queues.mail.timeout' },
    });
    expect(queuePolicy('mail', { timeout: 1.5 }, {})).toEqual({ timeoutMs: 1500 });
  });

  it('reads no variable of another queue', () => {
    expect(queuePolicy('mailer', {}, raw)).toEqual({});
  });

  it('applies --tries over the queue, the queue over the tries stored with the job', () => {
    const job = { queue: 'mail', maxTries: 3 } as ClaimedJob;
    const queuePolicies = new Map([['mail', { tries: 7 }]]);
    expect(triesOf(job, { tries: 2, queuePolicies })).toBe(2);
    expect(triesOf(job, { queuePolicies })).toBe(7);
    expect(triesOf({ ...job, queue: 'other' }, { queuePolicies })).toBe(3);
  });
});

describe("the config file's queues", () => {
  it('refuses tries that are not a number, naming the entry and what is allowed', async () => {
    const error = await loadError(`{ mail: { tries: 'x' } }`);
    expect(error.message).toBe(
      `Invalid config in ${path.join(dir.path, `app${loads}`, 'jobsmith.config.ts')}: queues.mail.tries must be a whole number from 1 to 1000000, got "x".`,
    );
  });

  it('refuses a timeout that is not a duration', async () => {
    const error = await loadError(`{ mail: { timeout: '30 sec' } }`);
    expect(error.message).toContain(
      'queues.mail.timeout must be seconds or a duration (seconds (90) or a number with a unit: 500ms, 30s, 5m, 2h, 1d), positive and at most',
    );
    expect(error.message).toContain('got "30 sec".');
  });

  it('refuses a backoff defineJob would refuse', async () => {
    const error = await loadError(`{ mail: { backoff: [10, -1] } }`);
    expect(error.message).toContain('queues.mail.backoff must be seconds');
    expect(error.message).toContain('got [10, -1].');
  });

  it('refuses a globalConcurrency that is not a whole number from 1 to 100,000', async () => {
    for (const bad of ['0', '100001', '2.5', "'4'"]) {
      expect((await loadError(`{ mail: { globalConcurrency: ${bad} } }`)).message).toContain(
        `queues.mail.globalConcurrency must be a whole number from 1 to 100,000, got ${bad.replace(/'/g, '"')}.`,
      );
    }
  });

  it('refuses an unknown setting and a name that is no queue name', async () => {
    expect((await loadError(`{ mail: { retries: 3 } }`)).message).toContain(
      'queues.mail has unknown field "retries"; the fields are tries, backoff, timeout, concurrency, globalConcurrency, retain.',
    );
    expect((await loadError(`{ 'a b': { tries: 3 } }`)).message).toContain(
      '`queues` key "a b" is not a queue name',
    );
  });

  it('refuses two queues that would read the same variables', async () => {
    expect((await loadError(`{ 'mail.high': {}, 'mail-high': {} }`)).message).toContain(
      'queues "mail.high" and "mail-high" both read QUEUE_MAIL_HIGH_* from the environment; rename one.',
    );
  });
});
