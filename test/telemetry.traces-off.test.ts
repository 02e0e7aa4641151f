/**
 * TELEMETRY_ENABLED=true where OpenTelemetry cannot be loaded (not installed, or broken): the
 * app says why traces are off, and jobs are still dispatched, untraced.
 */
import { realpathSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { App } from '../src/cli/app.js';
import { defineJob } from '../src/jobs/define.js';
import { tempDir, type TempDir } from './helpers/services.js';
import { appEnv } from './helpers/env.js';

vi.mock('@opentelemetry/api', () => {
  throw Object.assign(new Error('the install is broken'), { code: 'ERR_INVALID_PACKAGE_CONFIG' });
});

let dir: TempDir;
let saved: NodeJS.ProcessEnv;
beforeEach(() => {
  dir = tempDir('jobsmith-traces-off-');
  writeFileSync(path.join(dir.path, 'jobsmith.config.ts'), 'export default { jobs: [] };\n');
  saved = { ...process.env };
  for (const [key, value] of Object.entries(
    appEnv({ DB_CONNECTION: 'sqlite', TELEMETRY_ENABLED: 'true' }),
  )) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
});
afterEach(() => {
  process.env = saved;
  dir.cleanup();
});

describe('traces that cannot load', () => {
  it('leave traces off with the reason, and dispatches go on untraced', async () => {
    const app = new App(realpathSync(dir.path));
    try {
      expect(app.env.TELEMETRY_ENABLED).toBe(true);
      await expect(app.traces()).resolves.toBeUndefined();
      // (vitest wraps the error the module threw in one of its own.)
      expect(app.tracesOff).toMatch(/^OpenTelemetry failed to load \(.+\)$/);
      const job = defineJob({ name: 'noop', async handle() {} });
      const result = await app.dispatcher().dispatch(job, {});
      const { knex } = await app.db();
      expect(await knex('jobs').select('id', 'headers')).toEqual([
        { id: Number(result.id), headers: null },
      ]);
    } finally {
      await app.close();
    }
  });
});
