import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FloodWaitError, RPCError } from 'telegram/errors/index.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ChannelsFile, fileChannelSource } from './doubles/channels/index.js';

let dir: string;
let file: ChannelsFile;

beforeEach(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'jobsmith-channels-double-'));
  file = ChannelsFile.create(path.join(dir, 'channels.json'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('channels double', () => {
  it('re-reads the file on each call: posts appended later are read past the cursor, oldest first', async () => {
    file.post('@news', { text: 'one' });
    const source = fileChannelSource({ file: file.path });
    await source.connect();
    expect(await source.checkSession()).toEqual({ userId: '1000', username: 'reader' });
    const first = await source.readSince('@news', 0, 100);
    expect(first.map((m) => [m.channel, m.id, m.text])).toEqual([['@news', 1, 'one']]);

    file.post('@news', { text: 'two', media: [{ kind: 'photo', id: '77', data: 'aGk=' }] });
    file.post('@news', { text: 'three' });
    const next = await source.readSince('@news', 1, 1);
    expect(next.map((m) => m.text)).toEqual(['two']);
    expect(next[0]!.media).toEqual([{ kind: 'photo', id: '77' }]);
    expect((await source.downloadMedia(next[0]!, next[0]!.media![0]!)).toString()).toBe('hi');
    await source.close();
    expect(file.calls().map((c) => c.op)).toEqual([
      'connect',
      'checkSession',
      'readSince',
      'readSince',
      'downloadMedia',
      'close',
    ]);
  });

  it("throws GramJS's own classes for scripted faults, each as many times as scripted", async () => {
    const source = fileChannelSource({ file: file.path, account: 'reader' });
    file.post('@news', { text: 'one' });
    const flood = file.fault({ op: 'readSince', kind: 'flood_wait', seconds: 7, times: 2 });
    await source.connect();
    for (let i = 0; i < 2; i++) {
      const error = await source.readSince('@news', 0, 10).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(FloodWaitError);
      expect((error as FloodWaitError).seconds).toBe(7);
      expect((error as Error).message).toContain('messages.GetHistory');
    }
    expect(await source.readSince('@news', 0, 10)).toHaveLength(1);
    expect(file.calls().filter((c) => c.fault === flood)).toHaveLength(2);

    file.fault({ op: 'checkSession', kind: 'disconnected' });
    await expect(source.checkSession()).rejects.toThrow(/disconnected/);
    file.setSession(null);
    const revoked = await source.checkSession().catch((e: unknown) => e);
    expect(revoked).toBeInstanceOf(RPCError);
    expect((revoked as RPCError).errorMessage).toBe('SESSION_REVOKED');
    await source.close();
  });

  it('answers a second concurrent user of the session with AUTH_KEY_DUPLICATED, in another process too', async () => {
    const first = fileChannelSource({ file: file.path });
    await first.connect();
    const second = fileChannelSource({ file: file.path });
    const error = await second.connect().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RPCError);
    expect((error as RPCError).errorMessage).toBe('AUTH_KEY_DUPLICATED');
    expect((error as RPCError).code).toBe(406);

    // Another process meets the same refusal while `first` holds the session...
    const script = path.join(dir, 'attempt.ts');
    writeFileSync(
      script,
      `import { fileChannelSource } from ${JSON.stringify(path.resolve('test/doubles/channels/index.ts'))};
      const s = fileChannelSource({ file: ${JSON.stringify(file.path)} });
      try { await s.connect(); console.log('connected'); await s.close(); }
      catch (e) { console.log(e.errorMessage); }`,
    );
    const attempt = () =>
      spawnSync(process.execPath, ['--import', 'jiti/register', script], {
        encoding: 'utf8',
        timeout: 20_000,
      });
    expect(attempt().stdout.trim()).toBe('AUTH_KEY_DUPLICATED');
    // ...and `second` connects once it is closed.
    await first.close();
    await second.connect();
    await second.close();
  });
});
