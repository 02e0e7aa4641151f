/**
 * WriteBatcher (src/util/write-batcher.ts): the first write goes at once, the ones that come
 * while it is under way go together next, and one bad item fails only its own caller.
 */
import { describe, expect, it } from 'vitest';
import { WriteBatcher } from '../src/util/write-batcher.js';

/** A write the test lets finish; records every batch it was given. */
function gatedWrites(bad?: string) {
  const batches: string[][] = [];
  let open: () => void = () => {};
  let gate = new Promise<void>((resolve) => (open = resolve));
  const write = async (items: string[]) => {
    batches.push(items);
    await gate;
    if (bad !== undefined && items.includes(bad)) throw new Error(`bad item ${bad}`);
  };
  return {
    batches,
    write,
    release() {
      open();
      gate = Promise.resolve();
    },
  };
}

describe('WriteBatcher', () => {
  it('writes the first item at once and the ones that came meanwhile together', async () => {
    const w = gatedWrites();
    const batcher = new WriteBatcher(w.write);
    const first = batcher.add('a');
    expect(w.batches).toEqual([['a']]);
    const rest = ['b', 'c', 'd'].map((x) => batcher.add(x));
    w.release();
    await Promise.all([first, ...rest]);
    expect(w.batches).toEqual([['a'], ['b', 'c', 'd']]);
  });

  it('fails only the caller of a bad item, and stores the others', async () => {
    const w = gatedWrites('c');
    const batcher = new WriteBatcher(w.write);
    const first = batcher.add('a');
    const rest = ['b', 'c', 'd'].map((x) => batcher.add(x));
    w.release();
    const outcomes = await Promise.allSettled([first, ...rest]);
    expect(outcomes.map((o) => o.status)).toEqual([
      'fulfilled',
      'fulfilled',
      'rejected',
      'fulfilled',
    ]);
    expect((outcomes[2] as PromiseRejectedResult).reason.message).toBe('bad item c');
    expect(w.batches).toEqual([['a'], ['b', 'c', 'd'], ['b'], ['c'], ['d']]);
  });
});
