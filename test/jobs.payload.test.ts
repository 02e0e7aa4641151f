/**
 * A payload is stored as JSON and the handler gets what the schema makes of that JSON: a
 * dispatch whose payload JSON would change is refused before anything is stored, with the path
 * of the value and the fix. prepareJob is the one place every dispatch goes through (dispatch,
 * dispatchMany, ctx.dispatch, queue:dispatch, schedule entries).
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineJob } from '../src/jobs/define.js';
import { InvalidDispatchError, InvalidPayloadError } from '../src/jobs/errors.js';
import { prepareJob } from '../src/jobs/prepare.js';
import type { JobDefinition } from '../src/jobs/types.js';

const plain = defineJob({ name: 'plain.job', handle() {} });

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function refusal(job: JobDefinition<any>, payload: unknown, options = {}): string {
  try {
    prepareJob(job, payload, options);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidDispatchError);
    return (error as Error).message;
  }
  throw new Error('the dispatch was accepted');
}

const changed = (where: string, rest: string) =>
  `Payload for job plain.job would change when stored as JSON: ${where} is ${rest}.`;

class Point {
  constructor(
    readonly x: number,
    readonly y: number,
  ) {}
}

describe('a payload without a schema', () => {
  it.each<[string, unknown, string]>([
    [
      'a Date',
      { at: new Date(0) },
      changed(
        'at',
        'a Date, which JSON stores as an ISO string; pass date.toISOString() and read it with new Date(), or give the job a schema with z.coerce.date() for it so the handler gets a Date',
      ),
    ],
    [
      'a Map',
      { m: new Map([['a', 1]]) },
      changed(
        'm',
        'a Map, which JSON stores as {}; pass Object.fromEntries(map) (or [...map]) instead',
      ),
    ],
    [
      'a Set',
      { tags: new Set(['a']) },
      changed('tags', 'a Set, which JSON stores as {}; pass [...set] instead'),
    ],
    [
      'NaN',
      { n: NaN },
      changed(
        'n',
        'NaN, which JSON stores as null; pass a finite number, null or a string instead',
      ),
    ],
    [
      'Infinity deep inside',
      { a: { b: [1, -Infinity] } },
      changed(
        'a.b.1',
        '-Infinity, which JSON stores as null; pass a finite number, null or a string instead',
      ),
    ],
    [
      'undefined in an array',
      { list: [1, undefined] },
      changed(
        'list.1',
        'undefined in an array, which JSON stores as null; use null, or leave the item out',
      ),
    ],
    [
      'a function in an array',
      [() => 1],
      changed(
        '0',
        'a function in an array, which JSON stores as null; use null, or leave the item out',
      ),
    ],
    [
      'a function as a property',
      { run() {} },
      changed(
        'run',
        'a function, which JSON leaves out; pass plain data (objects, arrays, strings, finite numbers, booleans, null)',
      ),
    ],
    [
      'a BigInt',
      { id: 10n },
      changed('id', 'a BigInt, which JSON cannot store; pass value.toString() instead'),
    ],
    [
      'an object with its own toJSON',
      { url: new URL('https://example.com/') },
      changed(
        'url',
        'a URL with its own toJSON(), which JSON stores as what toJSON() returns; pass what its toJSON() returns (or plain data) instead',
      ),
    ],
    [
      'a class instance',
      { p: new Point(1, 2) },
      changed(
        'p',
        'a Point, which JSON stores as a plain object of its own fields, without its class; pass a plain object instead',
      ),
    ],
    [
      'a RegExp',
      { r: /x/ },
      changed(
        'r',
        'a RegExp, which JSON stores as a plain object of its own fields, without its class; pass a plain object instead',
      ),
    ],
    [
      'the payload itself a Date',
      new Date(0),
      changed(
        'the payload',
        'a Date, which JSON stores as an ISO string; pass date.toISOString() and read it with new Date(), or give the job a schema with z.coerce.date() for it so the handler gets a Date',
      ),
    ],
  ])('refuses %s, naming where it is and the fix', (_what, payload, message) => {
    expect(refusal(plain, payload)).toBe(message);
  });

  it('refuses a payload that holds itself', () => {
    const loop: Record<string, unknown> = { a: 1 };
    loop.self = loop;
    expect(refusal(plain, loop)).toBe(
      changed(
        'self',
        'the object that holds it (a circular reference), which JSON cannot store; pass plain data (objects, arrays, strings, finite numbers, booleans, null)',
      ),
    );
  });

  it('stores plain data as JSON, drops a property that is undefined, and stores no payload as null', () => {
    expect(
      prepareJob(plain, { a: [1, 'two', null, true, { b: -0.5 }], c: undefined }).payload,
    ).toBe('{"a":[1,"two",null,true,{"b":-0.5}]}');
    expect(prepareJob(plain, Object.assign(Object.create(null), { x: 1 })).payload).toBe('{"x":1}');
    expect(prepareJob(plain, undefined).payload).toBe('null');
  });

  it('is refused the same way by a payload of the same shape twice (no state kept between walks)', () => {
    const shared = { when: 1 };
    expect(prepareJob(plain, { a: shared, b: shared }).payload).toBe(
      '{"a":{"when":1},"b":{"when":1}}',
    );
  });
});

describe('a payload with a schema', () => {
  const strict = defineJob({ name: 'strict.job', schema: z.object({ at: z.date() }), handle() {} });
  const coerced = defineJob({
    name: 'coerced.job',
    schema: z.object({ at: z.coerce.date() }),
    handle() {},
  });
  const anything = defineJob({
    name: 'any.job',
    schema: z.object({ at: z.any() }),
    handle() {},
  });

  it('refuses a Date the schema would refuse once stored, and says to use z.coerce.date()', () => {
    const message = refusal(strict, { at: new Date() });
    expect(message).toBe(
      'Invalid payload for job strict.job once stored as JSON: at: Expected date, received string (at is a Date, which JSON stores as an ISO string). Fix: use z.coerce.date() for it in the schema, so the handler gets a Date back.',
    );
  });

  it('accepts a Date the schema reads back as the same Date', () => {
    const at = new Date('2026-05-01T09:30:00.123Z');
    const row = prepareJob(coerced, { at });
    expect(row.payload).toBe('{"at":"2026-05-01T09:30:00.123Z"}');
    expect(coerced.schema!.parse(JSON.parse(row.payload))).toEqual({ at });
  });

  it('refuses a value the schema lets through changed (z.any() and a Date)', () => {
    expect(refusal(anything, { at: new Date(0) })).toBe(
      'Payload for job any.job would reach its handler changed: at is a Date, which JSON stores as an ISO string, and the schema lets that through. Fix: use z.coerce.date() for it in the schema, so the handler gets a Date back.',
    );
  });

  it('still refuses a payload that fails the schema as given', () => {
    expect(refusal(strict, { at: 'soon' })).toBe(
      'Invalid payload for job strict.job: at: Expected date, received string',
    );
    expect(() => prepareJob(strict, { at: 'soon' } as never)).toThrow(InvalidPayloadError);
  });
});

describe('dispatch options', () => {
  it.each<[string, Record<string, unknown>, string]>([
    ['delay and at together', { delay: 1000, at: new Date() }, 'give either delay or at, not both'],
    [
      'a delay past 100 years',
      { delay: 101 * 365.25 * 86_400_000 },
      'delay 3187317600000 is not valid; use milliseconds or a duration such as 30s, at most 100 years',
    ],
    [
      'a delay that is not a duration',
      { delay: 'soon' },
      'delay "soon" is not valid; use milliseconds or a duration such as 30s, at most 100 years',
    ],
    [
      'an "at" that is not a date',
      { at: 'tomorrow' },
      '"at" "tomorrow" is not valid; use a Date, an ISO 8601 string or epoch milliseconds',
    ],
    ['tries of 0', { tries: 0 }, 'tries must be a whole number from 1 to 1000000, got 0'],
    [
      'a typo',
      { dealy: 5 },
      'unknown option "dealy"; the options are queue, delay, at, priority, tries, connection, tags',
    ],
  ])('refuses %s', (_what, options, problem) => {
    expect(refusal(plain, {}, options)).toBe(`Cannot dispatch plain.job: ${problem}.`);
  });

  it('stores a delay as whole milliseconds', () => {
    expect(prepareJob(plain, {}, { delay: 1.6 }).delayMs).toBe(2);
    expect(prepareJob(plain, {}, { delay: '1.5s' }).delayMs).toBe(1500);
  });
});
