import { afterEach, describe, expect, it } from 'vitest';
import { listenForStopSignals } from '../src/worker/stop-signals.js';

/** A worker as the signal listener sees it, recording what it was asked. */
function fakeWorker() {
  const calls: string[] = [];
  return {
    calls,
    stopping: false,
    stop() {
      calls.push('stop');
      this.stopping = true;
    },
    abandon() {
      calls.push('abandon');
    },
  };
}

let detach: (() => void) | undefined;
afterEach(() => detach?.());

describe('stop signals', () => {
  it('takes a repeat within the window as the same stop, and one after it as the second', async () => {
    const worker = fakeWorker();
    const repeats: string[] = [];
    detach = listenForStopSignals(worker, {
      windowMs: 100,
      onRepeat: (signal) => repeats.push(signal),
    });
    process.emit('SIGTERM');
    process.emit('SIGTERM');
    process.emit('SIGINT');
    expect(worker.calls).toEqual(['stop']);
    expect(repeats).toEqual(['SIGTERM', 'SIGINT']);
    await new Promise((resolve) => setTimeout(resolve, 120));
    process.emit('SIGQUIT');
    expect(worker.calls).toEqual(['stop', 'abandon']);
  });

  it('keeps draining a worker that was already stopping for another reason', () => {
    const worker = fakeWorker();
    worker.stopping = true;
    detach = listenForStopSignals(worker, { windowMs: 100 });
    process.emit('SIGTERM');
    expect(worker.calls).toEqual([]);
  });

  it('removes its listeners', () => {
    const before = process.listenerCount('SIGTERM');
    const stop = listenForStopSignals(fakeWorker());
    expect(process.listenerCount('SIGTERM')).toBe(before + 1);
    stop();
    expect(process.listenerCount('SIGTERM')).toBe(before);
  });
});
