/**
 * channelSession / withChannelSource on every storage, through real workers: two workers on two
 * connections to one storage stand for two processes. The channels double refuses a second
 * concurrent user of a session with AUTH_KEY_DUPLICATED, as Telegram does, so without the lease
 * the second job would fail; and a flood wait met by one job pushes back `telegram.mtproto` for
 * the account and method, so a job on the other worker waits without calling Telegram.
 */
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CHANNEL_RATE_LIMITS } from '../src/channels/limits.js';
import { channelSession, channelSessionOf } from '../src/channels/middleware.js';
import type { FloodWaitNotice } from '../src/channels/guarded.js';
import { flowControl } from '../src/flow/control.js';
import { rateLimitRules } from '../src/flow/rate-limits/config.js';
import { defineJob } from '../src/jobs/define.js';
import type { QueueDriver } from '../src/queue/driver.js';
import { drivers } from './conformance/drivers.js';
import { pushOne, startWorker, useHarness, type RunningWorker } from './conformance/support.js';
import { ChannelsFile, fileChannelSource } from './doubles/channels/index.js';
import { tempDir, type TempDir } from './helpers/services.js';
import { waitFor } from './helpers/wait.js';

const rules = rateLimitRules({ rateLimits: { ...CHANNEL_RATE_LIMITS } }, 'test');

for (const d of drivers) {
  describe.skipIf(!d.available())(`${d.name}: channel sessions`, () => {
    const harness = useHarness(d);
    let dir: TempDir;
    let file: ChannelsFile;
    beforeEach(() => {
      dir = tempDir('jobsmith-channels-session-');
      file = ChannelsFile.create(path.join(dir.path, 'channels.json'));
      file.post('@news', { text: 'one' });
    });
    afterEach(() => dir.cleanup());

    /** A collect job whose handler reads @news, then waits for `hold` (bounded) before it ends. */
    function collectJob(hold: () => Promise<void>, floods: FloodWaitNotice[]) {
      return defineJob<{ n: number }>({
        name: 'channels.collect',
        middleware: [
          channelSession(() => fileChannelSource({ file: file.path, account: 'reader' }), {
            onFloodWait: (notice) => {
              floods.push(notice);
            },
            reconnectDelayMs: 0,
          }),
        ],
        async handle(_payload, ctx) {
          const { source, me } = channelSessionOf(ctx);
          expect(me.userId).toBe('1000');
          await source.readSince('@news', 0, 10, ctx.signal);
          await hold();
        },
      });
    }

    function workerOn(driver: QueueDriver, job: ReturnType<typeof collectJob>): RunningWorker {
      return startWorker(harness(), [job], {}, driver, {
        flow: flowControl(driver, rules, () => {}),
      });
    }

    it('lets one process at a time use the session: the other job waits for the lease, then runs', async () => {
      const h = harness();
      const other = await h.connect();
      let holding = true;
      const floods: FloodWaitNotice[] = [];
      const job = collectJob(async () => {
        // The first job keeps the session until the other has been put back at least once.
        await waitFor(() => !holding, {
          timeoutMs: 10_000,
          message: 'the second job never waited',
        });
      }, floods);
      const a = workerOn(h.driver, job);
      const b = workerOn(other, job);
      await pushOne(h.driver, { name: 'channels.collect', payload: '{"n":1}' });
      await waitFor(() => file.calls().some((c) => c.op === 'readSince'));
      await pushOne(h.driver, { name: 'channels.collect', payload: '{"n":2}' });
      const released = await waitFor(() => [...a.of('job:released'), ...b.of('job:released')][0]);
      expect(released.error.message).toBe(
        'The Telegram session of account reader is in use by another job; waiting for it.',
      );
      expect(released.refunded).toBe(true);
      holding = false;
      await waitFor(() => a.of('job:processed').length + b.of('job:processed').length === 2);

      const calls = file.calls();
      expect(calls.filter((c) => c.fault !== undefined)).toEqual([]);
      // Two sessions, one after the other: connect, check, read, close; then the same again.
      expect(calls.map((c) => c.op)).toEqual([
        'connect',
        'checkSession',
        'readSince',
        'close',
        'connect',
        'checkSession',
        'readSince',
        'close',
      ]);
      expect(new Set(calls.map((c) => c.instance)).size).toBe(2);
      expect(floods).toEqual([]);
    });

    it('pushes back the account and method on a flood wait: a job on the other process waits it out', async () => {
      const h = harness();
      const other = await h.connect();
      const floods: FloodWaitNotice[] = [];
      const job = collectJob(async () => {}, floods);
      const flood = file.fault({ op: 'readSince', kind: 'flood_wait', seconds: 2 });
      const a = workerOn(h.driver, job);
      await pushOne(h.driver, { name: 'channels.collect', payload: '{"n":1}' });
      const first = await waitFor(() => a.of('job:released')[0]);
      expect(first.error.name).toBe('ChannelFloodWait');
      expect(first.delayMs).toBeGreaterThan(1_900);
      expect(floods).toEqual([{ account: 'reader', method: 'messages.GetHistory', seconds: 2 }]);
      const floodAt = file.calls().find((c) => c.fault === flood)!.at;

      // The other process: its job is put back by the limit, not by Telegram.
      const b = workerOn(other, job);
      const second = await pushOne(other, { name: 'channels.collect', payload: '{"n":2}' });
      // Either worker may claim it: both stand for processes on this storage.
      const waited = await waitFor(() =>
        [...a.of('job:released'), ...b.of('job:released')].find((e) => e.job.id === second),
      );
      expect(waited!.error.message).toMatch(
        /^Rate limit telegram\.mtproto \(key reader:messages\.GetHistory\): no room for \d+ms$/,
      );
      await waitFor(() => a.of('job:processed').length + b.of('job:processed').length === 2, {
        timeoutMs: 15_000,
      });
      const reads = file.calls().filter((c) => c.op === 'readSince');
      // One flood, then two reads, neither before the wait ended (the storage's clock may run
      // a few ms apart from this process's).
      expect(reads.map((c) => c.fault ?? 'ok')).toEqual([flood, 'ok', 'ok']);
      for (const read of reads.slice(1)) expect(read.at).toBeGreaterThanOrEqual(floodAt + 1_900);
      // Every session was closed, the flooded one too.
      const calls = file.calls();
      expect(calls.filter((c) => c.op === 'close')).toHaveLength(
        calls.filter((c) => c.op === 'connect').length,
      );
      expect(floods).toHaveLength(1);
    });
  });
}
