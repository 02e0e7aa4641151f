import { describe, expect, it } from 'vitest';
import { storableError, storableJob, storableRecord } from '../src/queue/storable.js';
import {
  boundText,
  hasUnstorable,
  KEY_MAX,
  storableKey,
  storableText,
} from '../src/util/stored-text.js';
import { wholeMs, wholeTime } from '../src/util/whole.js';

describe('storableText', () => {
  it('shows NUL as \\u0000 and turns lone surrogates into U+FFFD, keeping pairs', () => {
    expect(storableText('a\u0000b\uD800c\uDC00d😀')).toBe('a\\u0000b\uFFFDc\uFFFDd😀');
    expect(hasUnstorable('plain 😀 text')).toBe(false);
  });

  it('returns text that needs nothing as the same string', () => {
    const text = 'nothing to do';
    expect(storableText(text)).toBe(text);
  });
});

describe('boundText', () => {
  it('keeps text within the bound, noting how much was cut', () => {
    const out = boundText('x'.repeat(10_000), 100);
    expect(out.length).toBeLessThanOrEqual(100);
    expect(out).toMatch(/^x+…\[9,9\d\d characters cut\]$/);
    expect(Number(/\[([\d,]+) /.exec(out)![1]!.replace(/,/g, '')) + out.indexOf('…')).toBe(10_000);
  });

  it('never splits a surrogate pair', () => {
    const out = boundText(`${'a'.repeat(70)}${'😀'.repeat(50)}`, 100);
    expect(hasUnstorable(out)).toBe(false);
  });
});

describe('storableKey', () => {
  it('keeps a key the storage can hold as it is', () => {
    expect(storableKey('digest:42')).toBe('digest:42');
    expect(storableKey('k'.repeat(KEY_MAX))).toBe('k'.repeat(KEY_MAX));
  });

  it('encodes a key with NUL, a lone surrogate or past the column, the same way every time', () => {
    for (const key of ['a\u0000b', 'a\uD800', 'k'.repeat(KEY_MAX + 1)]) {
      const stored = storableKey(key);
      expect(stored).toMatch(/#sha256:[A-Za-z0-9_-]{43}$/);
      expect(stored.length).toBeLessThanOrEqual(KEY_MAX);
      expect(hasUnstorable(stored)).toBe(false);
      expect(storableKey(key)).toBe(stored);
    }
    expect(storableKey('a\u0000b').startsWith('a\\u0000b#')).toBe(true);
  });

  it('keeps different keys apart, and a look-alike apart from what it imitates', () => {
    const long = 'k'.repeat(300);
    expect(storableKey(`${long}a`)).not.toBe(storableKey(`${long}b`));
    expect(storableKey('a\uD800')).not.toBe(storableKey('a\uDC00'));
    expect(storableKey(storableKey(long))).not.toBe(storableKey(long));
  });

  it('fits a short column', () => {
    expect(storableKey('q'.repeat(150) + ':17', 64).length).toBeLessThanOrEqual(64);
  });
});

describe('the storage boundary of the drivers', () => {
  const job = {
    name: 'n',
    queue: 'q',
    payload: '{}',
    priority: 0,
    maxTries: 1,
    delayMs: 0,
  };

  it('leaves a job that needs nothing untouched (no copy)', () => {
    expect(storableJob(job)).toBe(job);
  });

  it('rounds times up to whole milliseconds and encodes the unique key', () => {
    expect(
      storableJob({ ...job, delayMs: 0.1, runAt: 1.5, unique: { key: 'a\u0000', forMs: 0.25 } }),
    ).toEqual({
      ...job,
      delayMs: 1,
      runAt: 2,
      unique: { key: storableKey('a\u0000'), forMs: 1 },
    });
    expect([wholeMs(0.0001), wholeMs(2), wholeTime(1795416412895.5)]).toEqual([
      1, 2, 1795416412896,
    ]);
  });

  it('masks, escapes and bounds errors', () => {
    expect(storableError('password=hunter2 \u0000')).toBe('password=*** \\u0000');
    expect(storableError(undefined)).toBeUndefined();
    const record = storableRecord({
      uuid: 'u',
      connection: 'redis',
      queue: 'q'.repeat(150),
      name: 'n',
      payload: '{}',
      exception: 'e'.repeat(100_000),
      reason: 'error',
      attempts: 1,
      priority: 0,
      originalId: `${'q'.repeat(150)}:17`,
    });
    expect(record.exception.length).toBeLessThanOrEqual(64_000);
    expect(record.originalId.length).toBeLessThanOrEqual(64);
  });
});
