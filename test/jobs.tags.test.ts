/**
 * Tags at dispatch: the job's `tags(payload)` and the dispatch's `tags`, merged in that order
 * without duplicates, checked before anything is stored.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../src/errors.js';
import { defineJob } from '../src/jobs/define.js';
import { InvalidDispatchError } from '../src/jobs/errors.js';
import { prepareJob } from '../src/jobs/prepare.js';

const plain = defineJob({ name: 'plain.job', handle() {} });
const tagged = defineJob({
  name: 'post.publish',
  tags: (p: { postId: number; userId: number }) => [`post:${p.postId}`, `user:${p.userId}`],
  handle() {},
});

describe('job tags', () => {
  it('stores no tags for a job without any', () => {
    expect(prepareJob(plain, {}).tags).toBeUndefined();
    expect(prepareJob(plain, {}, { tags: [] }).tags).toBeUndefined();
  });

  it("merges the job's tags and the dispatch's, the job's first, without duplicates", () => {
    const p = { postId: 42, userId: 7 };
    expect(prepareJob(tagged, p).tags).toEqual(['post:42', 'user:7']);
    expect(prepareJob(tagged, p, { tags: ['campaign:x', 'post:42', 'campaign:x'] }).tags).toEqual([
      'post:42',
      'user:7',
      'campaign:x',
    ]);
    expect(prepareJob(plain, {}, { tags: ['a'] }).tags).toEqual(['a']);
  });

  it.each([
    [
      ['' as string],
      'Cannot dispatch plain.job: tags: tag "" is not a non-empty string; use a list of at most 20 non-empty strings of at most 100 characters.',
    ],
    [
      'a' as unknown,
      'Cannot dispatch plain.job: tags must be a list of at most 20 non-empty strings of at most 100 characters, got string.',
    ],
    [
      ['x'.repeat(101)],
      'Cannot dispatch plain.job: tags: tag "xxxxxxxxxxxxxxxxxxxx…" is longer than 100 characters; use a list of at most 20 non-empty strings of at most 100 characters.',
    ],
    [
      Array.from({ length: 21 }, (_, i) => `t${i}`),
      'Cannot dispatch plain.job: a job has at most 20 tags, got 21.',
    ],
  ])('refuses tags %j', (tags, message) => {
    expect(() => prepareJob(plain, {}, { tags: tags as string[] })).toThrow(
      new InvalidDispatchError(message),
    );
  });

  it("refuses a job's tags option that is not a function", () => {
    expect(() => defineJob({ name: 'x.job', tags: ['a'] as never, handle() {} })).toThrow(
      new ConfigError(
        "Job x.job: tags must be a function of the payload: tags: (payload) => ['user:' + payload.id].",
      ),
    );
  });
});
