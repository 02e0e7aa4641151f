import { describe, expect, it } from 'vitest';
import type { ClaimedJob } from '../src/queue/driver.js';
import { JobBuffer } from '../src/worker/job-buffer.js';

const jobs = (from: number, n: number): ClaimedJob[] =>
  Array.from({ length: n }, (_, i) => ({
    id: String(from + i),
    name: 'buffer.job',
    queue: 'default',
    payload: '{}',
    priority: 0,
    attempts: 1,
    maxTries: 3,
    token: 't',
  }));
const ids = (list: ClaimedJob[]) => list.map((j) => j.id);

describe('worker job buffer', () => {
  it('hands jobs out first in, first out, across top-ups that arrive before it empties', () => {
    const buffer = new JobBuffer();
    buffer.push(jobs(1, 4));
    expect(ids(buffer.take(3))).toEqual(['1', '2', '3']);
    buffer.push(jobs(5, 2));
    expect(buffer.size).toBe(3);
    expect(buffer.peek()?.id).toBe('4');
    expect(ids(buffer.take(10))).toEqual(['4', '5', '6']);
    expect(buffer.size).toBe(0);
    expect(buffer.take(1)).toEqual([]);
  });

  it('drops a job whose lease was lost and gives the rest back on drain', () => {
    const buffer = new JobBuffer();
    buffer.push(jobs(1, 5));
    buffer.take(1);
    buffer.remove('3');
    expect(ids(buffer.toArray())).toEqual(['2', '4', '5']);
    expect(ids(buffer.drain())).toEqual(['2', '4', '5']);
    expect(buffer.size).toBe(0);
  });

  it('holds only the jobs not yet taken, however many top-ups it has had', () => {
    const buffer = new JobBuffer();
    for (let round = 0; round < 100; round++) {
      buffer.push(jobs(round * 10, 10));
      buffer.take(9);
    }
    // One job is left over from each round; nothing taken is still referenced.
    expect(buffer.size).toBe(100);
    expect((buffer as unknown as { jobs: unknown[] }).jobs.length).toBeLessThanOrEqual(109);
  });
});
