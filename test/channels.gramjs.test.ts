/**
 * The GramJS adapter where no Telegram is needed: its settings from the environment, the
 * session's fingerprint, and a connect to an address where nothing listens, which must give up
 * after `connectionRetries` (not GramJS's default of 5, or Infinity for reconnects) with an
 * error the mapping calls a lost connection, and leave nothing running once closed.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ChannelConnectionError, mapChannelError } from '../src/channels/errors.js';
import { gramjsSource } from '../src/channels/gramjs.js';
import { sessionFingerprint } from '../src/channels/lease.js';
import { channelSettings } from '../src/channels/settings.js';
import { parseEnv } from '../src/config/env.js';
import { ConfigError } from '../src/errors.js';
import { tempDir, type TempDir } from './helpers/services.js';

/** A StringSession (GramJS's format: '1' + base64 of dc, address, port, auth key) for `ip`. */
function sessionFor(ip: string): string {
  const address = Buffer.from(ip);
  const length = Buffer.alloc(2);
  length.writeInt16BE(address.length);
  const port = Buffer.alloc(2);
  port.writeInt16BE(80);
  return `1${Buffer.concat([Buffer.from([2]), length, address, port, randomBytes(256)]).toString('base64')}`;
}

const API = { TELEGRAM_API_ID: '12345', TELEGRAM_API_HASH: '0123456789abcdef0123456789abcdef' };

describe('gramjsSource', () => {
  let dir: TempDir;
  beforeEach(() => {
    dir = tempDir('jobsmith-channels-gramjs-');
  });
  afterEach(() => dir.cleanup());

  it('reads its settings from the environment, naming what is missing and where to get it', () => {
    const session = sessionFor('127.0.0.1');
    const env = parseEnv({ ...API, TELEGRAM_SESSION: session });
    expect(channelSettings({}, env)).toEqual({
      apiId: 12345,
      apiHash: API.TELEGRAM_API_HASH,
      session,
      connectionRetries: 3,
      retryDelayMs: 1000,
      floodSleepThreshold: 5,
      requestRetries: 3,
    });
    const error = (() => {
      try {
        return channelSettings({}, { TELEGRAM_API_ID: '1' });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toBe(
      'Reading Telegram channels needs TELEGRAM_API_HASH (the api_hash from https://my.telegram.org/apps, under API development tools), TELEGRAM_SESSION (the session string `run telegram:login` prints).',
    );
  });

  it('reads raw variables as the environment check does', () => {
    const session = sessionFor('127.0.0.1');
    expect(channelSettings({}, { ...API, TELEGRAM_SESSION: session }).apiId).toBe(12345);
    expect(() =>
      channelSettings({}, { ...API, TELEGRAM_API_ID: 'abc', TELEGRAM_SESSION: session }),
    ).toThrow('TELEGRAM_API_ID="abc" is not valid');
  });

  it('refuses a malformed hash or session without showing it', () => {
    const attempt = (raw: Record<string, string>) => {
      try {
        parseEnv(raw);
        return 'accepted';
      } catch (e) {
        return (e as Error).message;
      }
    };
    expect(attempt({ TELEGRAM_API_HASH: 'not-a-hash' })).toBe(
      'Invalid configuration: TELEGRAM_API_HASH="***" is not valid; expected the api_hash from https://my.telegram.org/apps: 32 hex digits.',
    );
    expect(attempt({ TELEGRAM_SESSION: 'secret-session' })).toBe(
      'Invalid configuration: TELEGRAM_SESSION="***" is not valid; expected a GramJS StringSession as `run telegram:login` prints it (a 1 followed by base64).',
    );
  });

  it('names the account by a fingerprint of the session, never the session', () => {
    const session = sessionFor('127.0.0.1');
    const source = gramjsSource({
      ...channelSettings({}, parseEnv({ ...API, TELEGRAM_SESSION: session })),
    });
    expect(source.sessionId).toBe(sessionFingerprint(session));
    expect(source.sessionId).toMatch(/^[0-9a-f]{16}$/);
    expect(source.account).toBe(`session-${source.sessionId}`);
    const named = gramjsSource({
      ...channelSettings({ account: 'reader' }, parseEnv({ ...API, TELEGRAM_SESSION: session })),
    });
    expect([named.account, named.sessionId]).toEqual(['reader', source.sessionId]);
  });

  it('gives up on an unreachable server after connectionRetries, as a lost connection', async () => {
    const settings = channelSettings(
      { connectionRetries: 2, retryDelayMs: 10, account: 'reader' },
      { ...API, TELEGRAM_SESSION: sessionFor('127.0.0.1') },
    );
    const source = gramjsSource(settings);
    const error = await source.connect().catch((e: unknown) => e);
    await source.close();
    await source.close();
    expect((error as Error).message).toBe(
      'Connection to Telegram failed after 2 tries (GramJS connectionRetries).',
    );
    const mapped = await mapChannelError(error, { account: 'reader', method: 'help.GetConfig' });
    expect(mapped).toBeInstanceOf(ChannelConnectionError);
    expect((mapped as Error).message).toBe(
      'Could not call help.GetConfig for account reader: the connection to Telegram was lost.',
    );
    await expect(source.readSince('@news', 0, 10)).rejects.toThrow(/disconnected/);
  });

  it('leaves nothing running after close: a process that failed to connect exits on its own', () => {
    const script = path.join(dir.path, 'connect.ts');
    writeFileSync(
      script,
      `import { gramjsSource } from ${JSON.stringify(path.resolve('src/channels/gramjs.ts'))};
      const s = gramjsSource({ apiId: 1, apiHash: ${JSON.stringify(API.TELEGRAM_API_HASH)},
        session: ${JSON.stringify(sessionFor('127.0.0.1'))}, connectionRetries: 1, retryDelayMs: 10,
        floodSleepThreshold: 5, requestRetries: 1 });
      await s.connect().catch((e) => console.log(e.message));
      await s.close();`,
    );
    const child = spawnSync(process.execPath, ['--import', 'jiti/register', script], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(child.signal).toBeNull();
    expect(child.stdout.trim()).toBe(
      'Connection to Telegram failed after 1 try (GramJS connectionRetries).',
    );
    // GramJS's logger is silenced: no stack of each failed try on stderr.
    expect(child.stderr).toBe('');
    expect(child.status).toBe(0);
  });
});
