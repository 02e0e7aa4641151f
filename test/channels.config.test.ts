/**
 * The config's `channels` section: `{}` declares the `telegram.mtproto` limit flood waits push
 * back (the config's own figures win); anything else in it is refused by name.
 */
import { realpathSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config/load-config.js';
import { INTEGRATION_SECTIONS } from '../src/integrations.js';
import { tempDir, type TempDir } from './helpers/services.js';

let dir: TempDir;
let cwd: string;
let loads = 0;
beforeEach(() => {
  dir = tempDir('jobsmith-channels-config-');
  cwd = realpathSync(dir.path);
});
afterEach(() => dir.cleanup());

/** Loads a config of `fields` (TypeScript source) from a file of its own (jiti caches modules). */
function load(fields: string) {
  const file = path.join(cwd, `channels-${++loads}.config.ts`);
  writeFileSync(file, `export default { ${fields} };\n`);
  return loadConfig(cwd, file, INTEGRATION_SECTIONS);
}

describe('the channels config section', () => {
  it('declares telegram.mtproto when present, and only then', async () => {
    expect((await load(`channels: {}`)).rateLimits.get('telegram.mtproto')).toEqual({
      name: 'telegram.mtproto',
      limit: 30,
      perMs: 30_000,
      burst: 5,
    });
    expect((await load(`queues: {}`)).rateLimits.has('telegram.mtproto')).toBe(false);
    const own = await load(
      `channels: {}, rateLimits: { 'telegram.mtproto': { limit: 10, per: '1m' } }`,
    );
    expect(own.rateLimits.get('telegram.mtproto')).toMatchObject({ limit: 10, perMs: 60_000 });
  });

  it('refuses fields it does not take, and a value that is not an object', async () => {
    await expect(load(`channels: { session: 'x' }`)).rejects.toThrow(
      "channels has no field 'session'; it takes none (`channels: {}` declares the 'telegram.mtproto' rate limit).",
    );
    await expect(load(`channels: true`)).rejects.toThrow(
      'channels must be an object ({}), got true.',
    );
  });
});
