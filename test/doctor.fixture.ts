/**
 * A scratch app for the `run doctor` tests: a temp folder, a config file written per test, and
 * `doctor --json` run the way an operator runs it.
 */
import { realpathSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import { runCliInHost } from './helpers/cli-host.js';
import { REPO_ROOT, type CliResult } from './helpers/cli.js';
import { appEnv } from './helpers/env.js';
import { tempDir, type TempDir } from './helpers/services.js';

export const EXAMPLE_CONF = path.join(REPO_ROOT, 'examples', 'supervisor', 'jobsmith.conf');

export interface Report {
  ok: boolean;
  checks: Array<{ check: string; status: string; detail: string; fix: string | null }>;
}

export interface DoctorApp {
  /** The app's folder (real path). */
  readonly cwd: string;
  /** Writes jobsmith.config.ts with one job per entry (`name: { timeout, connection }`). */
  writeConfig(
    jobs: Record<string, { timeout?: number; connection?: string; encrypted?: boolean }>,
  ): void;
  /** Runs `bin/run` in the app; `input` goes to stdin. */
  run(args: string[], env?: Record<string, string | undefined>, input?: string): Promise<CliResult>;
  /** `run doctor --json --supervisor <example conf>` plus `args`. */
  doctor(
    args?: string[],
    env?: Record<string, string | undefined>,
  ): Promise<{ result: CliResult; report: Report }>;
}

/** One fresh app folder per test; `env` is the base environment of every command. */
export function useDoctorApp(env: () => Record<string, string | undefined> = () => ({})) {
  let dir: TempDir;
  let cwd = '';
  beforeEach(() => {
    dir = tempDir('jobsmith-doctor-');
    cwd = realpathSync(dir.path);
  });
  afterEach(() => dir.cleanup());
  const app: DoctorApp = {
    get cwd() {
      return cwd;
    },
    writeConfig(jobs) {
      const defs = Object.entries(jobs).map(([name, o]) => {
        const options = [`name: '${name}'`, `timeout: ${o.timeout ?? 10}`];
        if (o.connection) options.push(`connection: '${o.connection}'`);
        if (o.encrypted) options.push('encrypted: true');
        return `defineJob({ ${options.join(', ')}, async handle() {} })`;
      });
      writeFileSync(
        path.join(cwd, 'jobsmith.config.ts'),
        `import { defineConfig, defineJob } from 'jobsmith';\nexport default defineConfig({ jobs: [${defs.join(', ')}] });\n`,
      );
    },
    // In the long-lived CLI host (test/helpers/cli-host.ts): doctor's checks read the app's
    // folder, environment and storage, never how the process started.
    run: (args, extra = {}, input) =>
      runCliInHost(args, { cwd, env: appEnv({ ...env(), ...extra }), input }),
    async doctor(args = [], extra = {}) {
      const result = await app.run(
        ['doctor', '--json', '--supervisor', EXAMPLE_CONF, ...args],
        extra,
      );
      let report: Report;
      try {
        report = JSON.parse(result.stdout) as Report;
      } catch {
        throw new Error(
          `doctor --json printed no JSON (exit ${result.code}):\n${result.stdout}${result.stderr}`,
        );
      }
      return { result, report };
    },
  };
  return app;
}

export const check = (report: Report, name: string) => {
  const found = report.checks.find((c) => c.check === name);
  if (!found) throw new Error(`no ${name} check in ${JSON.stringify(report)}`);
  return found;
};

/** Table rows of the plain output, cells separated by ` | `. */
export const rows = (stdout: string) => stdout.split('\n').map((l) => l.replace(/ {2,}/g, ' | '));
