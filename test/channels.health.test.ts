/**
 * withChannelSource's session health on SQLite (the lease and the push-back on every storage are
 * in channels.session.test.ts): reconnects after lost connections, up to 3, then the reason; a
 * dead session fails at once; the connection is always closed and the lease freed.
 */
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ChannelConnectionError, ChannelSessionError } from '../src/channels/errors.js';
import { CHANNEL_RATE_LIMITS } from '../src/channels/limits.js';
import { withChannelSource, type ChannelJobContext } from '../src/channels/session.js';
import { flowControl } from '../src/flow/control.js';
import { rateLimitRules } from '../src/flow/rate-limits/config.js';
import { Permanent } from '../src/jobs/errors.js';
import { drivers } from './conformance/drivers.js';
import { useHarness } from './conformance/support.js';
import { ChannelsFile, fileChannelSource } from './doubles/channels/index.js';
import { tempDir, type TempDir } from './helpers/services.js';
import { waitFor } from './helpers/wait.js';

const rules = rateLimitRules({ rateLimits: { ...CHANNEL_RATE_LIMITS } }, 'test');
const quiet = () => {};
const sqlite = drivers.find((d) => d.name === 'sqlite')!;

describe('withChannelSource: session health', () => {
  const harness = useHarness(sqlite);
  let dir: TempDir;
  let file: ChannelsFile;
  let warnings: string[];
  let ctx: ChannelJobContext;
  beforeEach(() => {
    dir = tempDir('jobsmith-channels-health-');
    file = ChannelsFile.create(path.join(dir.path, 'channels.json'));
    warnings = [];
    ctx = {
      flow: flowControl(harness().driver, rules, quiet),
      signal: new AbortController().signal,
      log: { debug: quiet, info: quiet, warn: (m) => warnings.push(m), error: quiet },
      jobId: '7',
    };
  });
  afterEach(() => dir.cleanup());

  const source = () => fileChannelSource({ file: file.path, account: 'reader' });
  const ops = () => file.calls().map((c) => (c.fault ? `${c.op}!` : c.op));
  const locks = () => harness().driver.flow().locks.list();

  it('reconnects after lost connections and reports how many it needed', async () => {
    file.fault({ op: 'checkSession', kind: 'disconnected', times: 2 });
    const result = await withChannelSource(
      ctx,
      source(),
      async (session) => ({ me: session.me, reconnects: session.reconnects }),
      { reconnectDelayMs: 0 },
    );
    expect(result).toEqual({ me: { userId: '1000', username: 'reader' }, reconnects: 2 });
    expect(ops()).toEqual([
      'connect',
      'checkSession!',
      'close',
      'connect',
      'checkSession!',
      'close',
      'connect',
      'checkSession',
      'close',
    ]);
    expect(warnings[0]).toBe(
      'Reconnecting to Telegram for account reader (1 of 3): Could not call users.GetUsers for account reader: the connection to Telegram was lost.',
    );
    expect(await locks()).toEqual([]);
  });

  it('fails with the reason after 3 reconnects, retryable, closed every time', async () => {
    file.fault({ op: 'connect', kind: 'timeout', times: null });
    const error = await withChannelSource(ctx, source(), async () => 'ran', {
      reconnectDelayMs: 0,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ChannelConnectionError);
    expect(error).not.toBeInstanceOf(Permanent);
    expect((error as Error).message).toBe(
      'Telegram is unreachable for account reader after 3 reconnects: Could not call help.GetConfig for account reader: Telegram did not answer in time.',
    );
    expect(ops().filter((op) => op === 'connect!')).toHaveLength(4);
    expect(await locks()).toEqual([]);
  });

  it('fails at once, Permanent, on a revoked session, naming run telegram:login', async () => {
    file.setSession(null);
    const error = await withChannelSource(ctx, source(), async () => 'ran').catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ChannelSessionError);
    expect(error).toBeInstanceOf(Permanent);
    expect((error as Error).message).toContain('run telegram:login');
    expect(ops()).toEqual(['connect', 'checkSession!', 'close']);
    expect(await locks()).toEqual([]);
  });

  it("closes and frees the lease when the job's code throws, and holds the lease while it runs", async () => {
    const boom = new Error('the code failed');
    const error = await withChannelSource(ctx, source(), async () => {
      expect((await locks()).map((l) => l.key)).toEqual(['channels.session:reader']);
      throw boom;
    }).catch((e: unknown) => e);
    expect(error).toBe(boom);
    expect(ops()).toEqual(['connect', 'checkSession', 'close']);
    expect(await locks()).toEqual([]);
  });

  it('counts a session check that does not answer in time as a lost connection', async () => {
    const inner = source();
    let hung = 0;
    const slow = {
      ...inner,
      account: inner.account,
      checkSession: (signal?: AbortSignal) =>
        hung++ === 0 ? new Promise<never>(() => {}) : inner.checkSession(signal),
    };
    const reconnects = await withChannelSource(ctx, slow, async (s) => s.reconnects, {
      checkTimeoutMs: 100,
      reconnectDelayMs: 0,
    });
    expect(reconnects).toBe(1);
    expect(warnings[0]).toBe(
      'Reconnecting to Telegram for account reader (1 of 3): The session check of account reader took longer than 100ms.',
    );
    expect(ops()).toEqual(['connect', 'close', 'connect', 'checkSession', 'close']);
  });

  it('stops reconnecting when the job is aborted (a timeout, a shutdown)', async () => {
    file.fault({ op: 'connect', kind: 'disconnected', times: null });
    const abort = new AbortController();
    const reason = new Error('the job timed out');
    const pending = withChannelSource(
      { ...ctx, signal: abort.signal },
      source(),
      async () => 'ran',
      {
        reconnectDelayMs: 60_000,
      },
    );
    await waitFor(() => warnings.length === 1);
    abort.abort(reason);
    await expect(pending).rejects.toBe(reason);
    expect(ops()).toEqual(['connect!']);
    expect(await locks()).toEqual([]);
  });

  it('refuses to run without flow control or without the telegram.mtproto limit', async () => {
    const bare = { ...ctx, flow: undefined };
    await expect(withChannelSource(bare, source(), async () => 'ran')).rejects.toThrow(
      "Job 7: withChannelSource has no storage to hold the Telegram session's lease (ctx.flow is undefined). Run the job under `run queue:work` (or give the Worker flow control: flowControl(driver, rules, emit)).",
    );
    const undeclared = { ...ctx, flow: flowControl(harness().driver, new Map(), quiet) };
    const error = await withChannelSource(undeclared, source(), async () => 'ran').catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(Permanent);
    expect((error as Error).message).toContain('Add `channels: {}` to defineConfig');
    expect(file.calls()).toEqual([]);
  });
});
