/**
 * How `run queue:work` prints a breaker opening: for its configured cooldown, whatever the
 * storage clock said. `until` comes from the storage (PostgreSQL's, Redis's clock) a round trip
 * before the line is printed, so until − now printed 4.99s for a 5s cooldown.
 */
import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { FlowEvent } from '../src/flow/events.js';
import type { Logger } from '../src/logging/logger.js';
import { renderBreakers } from '../src/worker/render-breakers.js';
import type { Worker } from '../src/worker/worker.js';

/** Renders `event` on a bare emitter (renderBreakers only listens) and returns the line. */
function rendered(event: Extract<FlowEvent, { type: 'breaker:opened' }>): string {
  const worker = new EventEmitter();
  const out = new PassThrough();
  const chunks: string[] = [];
  out.on('data', (c: Buffer) => chunks.push(c.toString()));
  const quiet = () => {};
  const log = { debug: quiet, info: quiet, warn: quiet, error: quiet } as unknown as Logger;
  renderBreakers(worker as unknown as Worker, { log, json: quiet, out });
  worker.emit('breaker:opened', event);
  return chunks.join('');
}

describe('the BREAKER line of run queue:work', () => {
  it('prints the configured cooldown, not until − now, when the storage clock was read a moment ago', () => {
    const line = rendered({
      type: 'breaker:opened',
      name: 'openai',
      failures: 5,
      // Opened 40 ms ago by the storage's clock: until − now is 4.96 s.
      until: Date.now() + 5_000 - 40,
      cooldownMs: 5_000,
      reopened: false,
      jobId: '12',
      error: 'HTTP 503',
    });
    expect(line).toMatch(
      / BREAKER openai OPEN for 5\.00s after 5 failure\(s\); job #12: HTTP 503\n$/,
    );
  });

  it('prints a re-opening the same way', () => {
    const line = rendered({
      type: 'breaker:opened',
      name: 'openai',
      failures: 5,
      until: Date.now() + 30_000 - 600,
      cooldownMs: 30_000,
      reopened: true,
      jobId: '13',
    });
    expect(line).toMatch(/ BREAKER openai OPEN again for 30\.0s: its probe failed; job #13\n$/);
  });
});
