/**
 * The `ctx` a handler gets: `ctx.log` puts the job on every line, its methods work taken off
 * it (`const { info } = ctx.log`), and a spread of ctx (`{ ...ctx }`, as middleware does)
 * keeps `log` and `signal`.
 */
import { describe, expect, it } from 'vitest';
import type { ClaimedJob } from '../src/queue/driver.js';
import type { JobLogger } from '../src/jobs/types.js';
import { LazyJobContext } from '../src/worker/job-context.js';

function recording(): { log: JobLogger; lines: Array<[string, string, unknown]> } {
  const lines: Array<[string, string, unknown]> = [];
  const at =
    (level: string) =>
    (msg: string, extra?: Record<string, unknown>): void => {
      lines.push([level, msg, extra]);
    };
  return {
    log: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') },
    lines,
  };
}

const job = { id: '7', name: 'mail.send', queue: 'mail', token: 't' } as ClaimedJob;
const dispatch = (() => Promise.resolve({ id: 'x' })) as never;

describe('ctx.log', () => {
  it('puts the job on every line, over a field of the same name', () => {
    const { log, lines } = recording();
    const ctx = new LazyJobContext(2, '7', 'mail', log, dispatch, job);
    ctx.log.info('sent', { to: 'a@b.c', job: 'spoofed' });
    ctx.log.error('failed');
    expect(lines).toEqual([
      [
        'info',
        'sent',
        { to: 'a@b.c', job: { id: '7', name: 'mail.send', queue: 'mail', attempt: 2 } },
      ],
      ['error', 'failed', { job: { id: '7', name: 'mail.send', queue: 'mail', attempt: 2 } }],
    ]);
  });

  it('works with its methods taken off it', () => {
    const { log, lines } = recording();
    const ctx = new LazyJobContext(1, '7', 'mail', log, dispatch, job);
    const { warn, debug } = ctx.log;
    warn('slow');
    debug('detail', { n: 1 });
    expect(lines.map(([level, msg]) => `${level} ${msg}`)).toEqual(['warn slow', 'debug detail']);
    expect(lines[1]![2]).toMatchObject({ n: 1, job: { id: '7' } });
  });

  it('survives a spread of ctx, as do signal and the job fields', () => {
    const { log, lines } = recording();
    const ctx = new LazyJobContext(1, '7', 'mail', log, dispatch, job);
    const copy = { ...ctx };
    expect(Object.keys(copy)).toEqual(
      expect.arrayContaining(['log', 'signal', 'jobId', 'attempt']),
    );
    copy.log.info('from a copy');
    expect(lines).toHaveLength(1);
    expect(copy.signal).toBeInstanceOf(AbortSignal);
  });
});
