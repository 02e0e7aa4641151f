/**
 * The pure parts of the GPT job: the config's `gpt` section, askGpt's payload check, the
 * retry-after headers, trimming a reply cut at max_tokens, and the JSON Schema subset.
 */
import { describe, expect, it } from 'vitest';
import { askGpt } from '../src/gpt/index.js';
import { retryAfterSeconds } from '../src/gpt/errors.js';
import { schemaProblem } from '../src/gpt/json-check.js';
import { trimReply } from '../src/gpt/reply.js';
import { checkGptConfig, gptBreakerSettings } from '../src/gpt/settings.js';

const problem = (value: unknown) => {
  try {
    checkGptConfig(value, (p) => {
      throw new Error(p);
    });
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
};

describe('the config’s gpt section', () => {
  it('takes queue, breaker and onResult, and refuses anything else, naming it', () => {
    expect(problem(undefined)).toBeUndefined();
    expect(
      problem({ queue: 'ai', breaker: { failures: 3, cooldown: '10s' }, onResult() {} }),
    ).toBeUndefined();
    expect(problem({ model: 'x' })).toBe(
      'unknown field "gpt.model"; the fields are queue, breaker, onResult.',
    );
    expect(problem({ queue: 'a b' })).toMatch(/^gpt\.queue is not a queue name/);
    expect(problem({ breaker: { name: 'x' } })).toBe(
      'unknown field "gpt.breaker.name"; the fields are failures, window, cooldown (the name is always "openai").',
    );
    expect(problem({ breaker: { failures: 0 } })).toBe(
      'gpt: breaker.failures must be a whole number from 1 to 1000000 (the failures that open it); got 0.',
    );
    expect(problem({ onResult: 'summary.save' })).toBe(
      '`gpt.onResult` must be a function (result) => ..., run after each successful request.',
    );
  });

  it('declares the openai breaker: 5 failures in 1 minute open it for 30 seconds', () => {
    expect(gptBreakerSettings(undefined)).toMatchObject({
      name: 'openai',
      failures: 5,
      windowMs: 60_000,
      cooldownMs: 30_000,
    });
    expect(gptBreakerSettings({ breaker: { cooldown: '5s' } })).toMatchObject({
      cooldownMs: 5_000,
    });
  });
});

describe('askGpt', () => {
  it('refuses a bad payload before connecting, naming the field', async () => {
    await expect(askGpt('hi', { max_tokens: 0 })).rejects.toThrow(
      'askGpt: max_tokens: Number must be greater than or equal to 1',
    );
    await expect(askGpt([], {})).rejects.toThrow(
      'askGpt: messages: Array must contain at least 1 element(s)',
    );
    await expect(askGpt('hi', { onResult: 'no spaces please' })).rejects.toThrow(
      /^askGpt: onResult: a job name/,
    );
  });
});

describe('retry-after', () => {
  const headers = (h: Record<string, string>) => ({ get: (name: string) => h[name] ?? null });
  it('reads retry-after-ms first, then retry-after in seconds or as an HTTP date', () => {
    expect(retryAfterSeconds(headers({ 'retry-after-ms': '250', 'retry-after': '9' }))).toBe(0.25);
    expect(retryAfterSeconds(headers({ 'retry-after': '2' }))).toBe(2);
    const at = new Date(Date.now() + 10_000).toUTCString();
    expect(retryAfterSeconds(headers({ 'retry-after': at }))).toBeGreaterThan(8);
    expect(retryAfterSeconds(headers({ 'retry-after': 'soon' }))).toBeUndefined();
    expect(retryAfterSeconds(undefined)).toBeUndefined();
  });
});

describe('trimReply', () => {
  it('keeps the whole sentences of a cut reply, within trimTo characters', () => {
    expect(trimReply('One. Two! Three is cut in the mid')).toBe('One. Two!');
    expect(trimReply('Whole sentence.')).toBe('Whole sentence.');
    expect(trimReply('no sentence ends here at al')).toBe('no sentence ends here at');
    expect(trimReply('One. Two. Three.', 9)).toBe('One. Two.');
  });
});

describe('schemaProblem', () => {
  const schema = {
    type: 'object',
    properties: {
      title: { type: 'string' },
      tags: { type: 'array', items: { type: 'string' } },
      mood: { enum: ['good', 'bad'] },
      score: { type: ['integer', 'null'] },
    },
    required: ['title'],
    additionalProperties: false,
  };
  it('names the first place a reply breaks the schema', () => {
    expect(
      schemaProblem({ title: 'x', tags: ['a'], mood: 'good', score: null }, schema),
    ).toBeUndefined();
    expect(schemaProblem({}, schema)).toBe('$: "title" is missing');
    expect(schemaProblem({ title: 1 }, schema)).toBe('$.title: expected string, got number');
    expect(schemaProblem({ title: 'x', tags: ['a', 2] }, schema)).toBe(
      '$.tags[1]: expected string, got number',
    );
    expect(schemaProblem({ title: 'x', mood: 'meh' }, schema)).toBe(
      '$.mood: expected one of "good", "bad"',
    );
    expect(schemaProblem({ title: 'x', score: 1.5 }, schema)).toBe(
      '$.score: expected integer or null, got number',
    );
    expect(schemaProblem({ title: 'x', extra: 1 }, schema)).toBe('$: "extra" is not allowed');
    expect(schemaProblem([], schema)).toBe('$: expected object, got array');
  });
});
