/**
 * The line a worker prints when it starts to stop: after a signal it says a second signal
 * releases the running jobs; after an error (no signal was sent) it says to send SIGTERM, where
 * it said "signal again" (found by a new user's trial).
 */
import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { renderWorker } from '../src/worker/render.js';
import type { Worker } from '../src/worker/worker.js';

function rendered(event: Record<string, unknown>): string {
  const source = new EventEmitter();
  const out = new PassThrough();
  let text = '';
  out.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  renderWorker(source as unknown as Worker, {
    json: false,
    log: pino({ level: 'silent' }),
    out,
    err: out,
  });
  source.emit('worker:stopping', event);
  return text;
}

describe('the stopping line', () => {
  it('after a signal, says a second signal releases the running jobs', () => {
    expect(rendered({ reason: 'signal' })).toContain(
      'Stopping: finishing running jobs (signal again after 1s to release them now)...',
    );
  });

  it('after an error, says to send SIGTERM (no signal was sent)', () => {
    const text = rendered({ reason: 'uncaught', error: new Error('boom outside a promise') });
    expect(text).toContain('boom outside a promise');
    expect(text).toContain(
      'Stopping: finishing running jobs (send SIGTERM to release them now)...',
    );
    expect(text).not.toContain('signal again');
  });
});
