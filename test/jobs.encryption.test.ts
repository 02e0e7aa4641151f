/**
 * The crypto of encrypted payloads (src/jobs/encryption): Laravel's key forms, the stored form,
 * rotation, and the reasons a payload cannot be opened; dispatch's sealing (prepareJob) and
 * defineJob's option; the .env edits of `run key:generate`; masking of APP_PREVIOUS_KEYS.
 * Storage round trips are in encryption.specs.ts.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, JobsmithError } from '../src/errors.js';
import { defineJob } from '../src/jobs/define.js';
import { openPayload, sealPayload } from '../src/jobs/encryption/cipher.js';
import { showPayload } from '../src/jobs/encryption/display.js';
import { generateKey, withAppKey } from '../src/jobs/encryption/env-file.js';
import { isEncryptedText } from '../src/jobs/encryption/envelope.js';
import { keyId, loadKeyring, parseKey, usePayloadKeys } from '../src/jobs/encryption/keys.js';
import { prepareJob } from '../src/jobs/prepare.js';
import { clearMaskedValues, redact } from '../src/logging/redact.js';
import { maskSecretSettings } from '../src/logging/secrets.js';

const newKey = () => `base64:${randomBytes(32).toString('base64')}`;
const idOf = (key: string) => keyId(parseKey(key) as Buffer);
const PLAIN = JSON.stringify({ card: '4111-1111-1111-1111' });

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (error) {
    return error as Error;
  }
  throw new Error('did not throw');
}

describe('parseKey', () => {
  it("takes Laravel's forms: base64: and 32 bytes, or 32 characters", () => {
    const bytes = randomBytes(32);
    expect(parseKey(`base64:${bytes.toString('base64')}`)).toEqual(bytes);
    expect(parseKey('0123456789abcdef0123456789abcdef')).toEqual(
      Buffer.from('0123456789abcdef0123456789abcdef'),
    );
  });

  it('says what is wrong with a key without quoting it', () => {
    expect(parseKey('base64:c2hvcnQ=')).toEqual({ problem: 'it decodes to 5 bytes, not 32' });
    expect(parseKey('base64:not base64!')).toEqual({
      problem: 'the part after "base64:" is not base64',
    });
    expect(parseKey('short')).toEqual({
      problem: 'it is 5 bytes without a "base64:" prefix, not 32',
    });
  });
});

describe('loadKeyring', () => {
  it('puts APP_KEY first, then each of APP_PREVIOUS_KEYS, each with its id and source', () => {
    const [a, b, c] = [newKey(), newKey(), newKey()];
    const ring = loadKeyring({ APP_KEY: a, APP_PREVIOUS_KEYS: ` ${b},,${c} ` });
    expect(ring.current?.id).toBe(idOf(a));
    expect(ring.all.map((k) => [k.id, k.source])).toEqual([
      [idOf(a), 'APP_KEY'],
      [idOf(b), 'APP_PREVIOUS_KEYS (key 1)'],
      [idOf(c), 'APP_PREVIOUS_KEYS (key 2)'],
    ]);
    expect(ring.problems).toEqual([]);
    expect(idOf(a)).toMatch(/^[0-9a-f]{8}$/);
    // The id is a hash of the key, never a part of it.
    expect(a).not.toContain(idOf(a));
  });

  it('reports an unset or malformed APP_KEY and a malformed previous key by place', () => {
    expect(loadKeyring({}).currentProblem).toBe('APP_KEY is not set');
    expect(loadKeyring({ APP_KEY: '' }).currentProblem).toBe('APP_KEY is not set');
    const ring = loadKeyring({ APP_KEY: 'nope', APP_PREVIOUS_KEYS: `${newKey()},base64:AAAA` });
    expect(ring.current).toBeUndefined();
    expect(ring.currentProblem).toBe(
      'APP_KEY is not a valid key: it is 4 bytes without a "base64:" prefix, not 32',
    );
    expect(ring.all).toHaveLength(1);
    expect(ring.problems).toEqual([
      'key 2 of APP_PREVIOUS_KEYS is not a valid key: it decodes to 3 bytes, not 32',
    ]);
  });
});

describe('sealPayload and openPayload', () => {
  const keyA = newKey();
  const keyB = newKey();
  const ringA = loadKeyring({ APP_KEY: keyA });

  it('seals to JSON text that holds the key id and not the payload, and opens it again', () => {
    const sealed = sealPayload(PLAIN, 'card.charge', ringA);
    expect(sealed).not.toContain('4111');
    expect(isEncryptedText(sealed)).toBe(true);
    const form = JSON.parse(sealed) as Record<string, string>;
    expect(Object.keys(form)).toEqual(['jobsmith:encrypted', 'kid', 'iv', 'tag', 'data']);
    expect(form).toMatchObject({ 'jobsmith:encrypted': 1, kid: idOf(keyA) });
    expect(Buffer.from(form.iv!, 'base64')).toHaveLength(12);
    expect(Buffer.from(form.tag!, 'base64')).toHaveLength(16);
    expect(openPayload(form, 'card.charge', ringA)).toEqual({ text: PLAIN });
    // A fresh nonce each time: the same payload never seals the same.
    expect(sealPayload(PLAIN, 'card.charge', ringA)).not.toBe(sealed);
  });

  it('opens a payload sealed with an old key that APP_PREVIOUS_KEYS holds', () => {
    const sealed = JSON.parse(sealPayload(PLAIN, 'card.charge', ringA));
    const rotated = loadKeyring({ APP_KEY: keyB, APP_PREVIOUS_KEYS: keyA });
    expect(openPayload(sealed, 'card.charge', rotated)).toEqual({ text: PLAIN });
    expect(JSON.parse(sealPayload(PLAIN, 'card.charge', rotated)).kid).toBe(idOf(keyB));
  });

  it('names the key ids and the fix when no key opens a payload', () => {
    const sealed = JSON.parse(sealPayload(PLAIN, 'card.charge', ringA));
    const other = newKey();
    const ring = loadKeyring({ APP_KEY: keyB, APP_PREVIOUS_KEYS: `${other},bad` });
    expect(openPayload(sealed, 'card.charge', ring)).toEqual({
      problem:
        `Cannot open the encrypted payload of card.charge: it was sealed with key ${idOf(keyA)}, and this process has keys ${idOf(keyB)} (APP_KEY), ${idOf(other)} (APP_PREVIOUS_KEYS (key 1)) (key 2 of APP_PREVIOUS_KEYS is not a valid key: it is 3 bytes without a "base64:" prefix, not 32). ` +
        'Set APP_PREVIOUS_KEYS to the key it was sealed with (the APP_KEY of when it was dispatched; comma-separated with any others), restart the workers, then run queue:retry. ' +
        'If APP_KEY was changed after this worker started (run key:generate --force), the job was sealed with the new key: restart the workers (run queue:restart), then run queue:retry.',
    });
    expect(openPayload(sealed, 'card.charge', loadKeyring({}))).toEqual({
      problem: expect.stringContaining(
        `sealed with key ${idOf(keyA)}, and this process has no key (APP_KEY is not set). Set APP_KEY (in the environment or .env) to the key it was sealed with, the APP_KEY of the process that dispatched it,`,
      ),
    });
  });

  it('refuses a payload altered in storage, or moved to another job', () => {
    const sealed = JSON.parse(sealPayload(PLAIN, 'card.charge', ringA)) as Record<string, string>;
    const data = Buffer.from(sealed.data!, 'base64');
    data[0] = data[0]! ^ 1;
    const altered = { ...sealed, data: data.toString('base64') };
    const problem = `Cannot open the encrypted payload of card.charge with key ${idOf(keyA)} (APP_KEY): it does not authenticate, so it was altered or damaged in storage (or sealed for another job name).`;
    expect(openPayload(altered, 'card.charge', ringA)).toEqual({ problem });
    expect(openPayload(sealed, 'card.refund', ringA)).toEqual({
      problem: problem.replace('card.charge', 'card.refund'),
    });
    expect(openPayload({ ...sealed, iv: undefined }, 'card.charge', ringA)).toEqual({
      problem:
        'Cannot open the encrypted payload of card.charge: its stored form is damaged (kid, iv, tag or data missing or not base64).',
    });
    expect(openPayload({ ...sealed, 'jobsmith:encrypted': 2 }, 'card.charge', ringA)).toEqual({
      problem: expect.stringContaining('its stored form is version 2'),
    });
  });

  it('refuses to seal without a valid APP_KEY, naming it and run key:generate', () => {
    for (const [env, why] of [
      [{}, 'APP_KEY is not set'],
      [{ APP_KEY: 'base64:AAAA' }, 'APP_KEY is not a valid key: it decodes to 3 bytes, not 32'],
    ] as const) {
      const error = thrown(() => sealPayload(PLAIN, 'card.charge', loadKeyring(env)));
      expect(error).toBeInstanceOf(ConfigError);
      expect(error.message).toBe(
        `Cannot dispatch card.charge: its payload is encrypted (defineJob({ encrypted: true })), and ${why}.`,
      );
      expect((error as ConfigError).hint).toContain('run key:generate');
    }
  });
});

describe('showPayload', () => {
  it('shows [encrypted] for a sealed payload and any other payload as it is', () => {
    expect(showPayload(sealPayload(PLAIN, 'x', loadKeyring({ APP_KEY: newKey() })))).toBe(
      '[encrypted]',
    );
    expect(showPayload(PLAIN)).toBe(PLAIN);
    // A user's own payload that merely has the word in it is not taken for one.
    expect(showPayload('{"note":"jobsmith:encrypted"}')).toBe('{"note":"jobsmith:encrypted"}');
  });
});

describe('defineJob({ encrypted }) and prepareJob', () => {
  afterEach(() => usePayloadKeys({}));

  it('seals the payload at dispatch, after the schema checked the plain one', async () => {
    const { z } = await import('zod');
    const key = newKey();
    usePayloadKeys({ APP_KEY: key });
    const job = defineJob({
      name: 'card.charge',
      schema: z.object({ card: z.string() }),
      encrypted: true,
      handle() {},
    });
    expect(job.encrypted).toBe(true);
    const row = prepareJob(job, { card: '4111-1111-1111-1111' });
    expect(row.payload).not.toContain('4111');
    expect(JSON.parse(row.payload)).toMatchObject({ kid: idOf(key) });
    // The schema still refuses a bad payload before anything is sealed.
    expect(thrown(() => prepareJob(job, { card: 1 } as never)).message).toContain(
      'Invalid payload for job card.charge: card: Expected string, received number',
    );
    // A job that is not encrypted is stored as it is.
    const plain = defineJob({ name: 'plain.job', handle() {} });
    expect(plain.encrypted).toBeUndefined();
    expect(prepareJob(plain, { card: 'x' }).payload).toBe('{"card":"x"}');
    // Its stored form's mark is reserved: a plain payload with it would be taken for one.
    expect(thrown(() => prepareJob(plain, { 'jobsmith:encrypted': 1 })).message).toBe(
      'Payload for job plain.job has the key "jobsmith:encrypted", which marks an encrypted payload; rename that key (or use defineJob({ encrypted: true })).',
    );
  });

  it('checks a schedule entry of an encrypted job when the config loads, without needing APP_KEY', async () => {
    const { z } = await import('zod');
    const { defineConfig } = await import('../src/config/define.js');
    const { resolveSchedule } = await import('../src/schedule/resolve.js');
    const job = defineJob({
      name: 'card.report',
      schema: z.object({ day: z.string() }),
      encrypted: true,
      handle() {},
    });
    const entry = (payload: unknown) =>
      defineConfig({
        jobs: [job],
        schedule: [{ name: 'nightly', cron: '0 3 * * *', job, payload: payload as never }],
      });
    expect(resolveSchedule(entry({ day: 'mon' }))).toHaveLength(1);
    expect(thrown(() => resolveSchedule(entry({ day: 1 }))).message).toContain(
      'Invalid payload for job card.report: day: Expected string, received number',
    );
  });

  it('refuses an encrypted option that is not a boolean', () => {
    expect(
      thrown(() => defineJob({ name: 'a', encrypted: 'yes' as never, handle() {} })).message,
    ).toBe('Job a: encrypted must be true or false, got "yes".');
  });
});

describe('withAppKey (run key:generate)', () => {
  const key = generateKey();

  it('makes a key of 32 random bytes in base64', () => {
    expect(key).toMatch(/^base64:[A-Za-z0-9+/]{43}=$/);
    expect(parseKey(key)).toHaveLength(32);
    expect(generateKey()).not.toBe(key);
  });

  it('adds APP_KEY to a new or existing file, or fills an empty one, keeping the rest', () => {
    expect(withAppKey(undefined, key, false)).toEqual({ text: `APP_KEY=${key}\n`, id: idOf(key) });
    expect(withAppKey('A=1', key, false).text).toBe(`A=1\nAPP_KEY=${key}\n`);
    expect(withAppKey('A=1\nAPP_KEY=\nB=2\n', key, false).text).toBe(`A=1\nAPP_KEY=${key}\nB=2\n`);
  });

  it('keeps an APP_KEY that is set unless forced', () => {
    const old = newKey();
    const error = thrown(() => withAppKey(`APP_KEY="${old}"\n`, key, false));
    expect(error).toBeInstanceOf(JobsmithError);
    expect(error.message).toBe(
      `APP_KEY is already set in .env (key ${idOf(old)}); nothing was written.`,
    );
    expect((error as JobsmithError).hint).toContain('--force');
  });

  it('with force, replaces it and puts the old key first in APP_PREVIOUS_KEYS', () => {
    const [old, older] = [newKey(), newKey()];
    expect(withAppKey(`A=1\nexport APP_KEY=${old}\nB=2\n`, key, true)).toEqual({
      text: `A=1\nAPP_KEY=${key}\nAPP_PREVIOUS_KEYS=${old}\nB=2\n`,
      id: idOf(key),
      replacedId: idOf(old),
      keptPrevious: true,
    });
    expect(withAppKey(`APP_PREVIOUS_KEYS=${older},${old}\nAPP_KEY=${old}\n`, key, true).text).toBe(
      `APP_PREVIOUS_KEYS=${old},${older}\nAPP_KEY=${key}\n`,
    );
    // A malformed old key sealed nothing: it is dropped, not kept.
    expect(withAppKey('APP_KEY=nope\n', key, true)).toMatchObject({
      text: `APP_KEY=${key}\n`,
      keptPrevious: false,
    });
  });
});

describe('masking', () => {
  afterEach(() => clearMaskedValues());

  it('masks APP_PREVIOUS_KEYS whole and key by key', () => {
    const [a, b] = [newKey(), newKey()];
    maskSecretSettings({ APP_PREVIOUS_KEYS: `${a}, ${b}` });
    expect(redact(`old ${a} and ${b}; all ${a}, ${b}`)).toBe('old *** and ***; all ***');
  });
});
