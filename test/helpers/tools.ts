/**
 * External programs some suites need (supervisord, shellcheck, a redis-server of their own...).
 * One rule for all of them:
 *
 * - With CI=true a missing program fails the suite: CI must run everything, and `.ci/run`
 *   installs every program listed in test/helpers/tools.json (and stops, naming them, when it
 *   cannot).
 * - Elsewhere the tests that need it are skipped, visibly: a NOTICE on stderr and a skipped test
 *   whose note says what to install; the summary line lists the notes again.
 *
 * A new suite that needs a program adds it to tools.json (command, Debian package, why) and
 * wraps its tests in `describeWithTools` or `itWithTools`.
 */
import { accessSync, constants, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it, type TestFunction } from 'vitest';

export interface ToolInfo {
  /** The Debian/Ubuntu package that provides it (what `.ci/run` installs). */
  package: string;
  /** Which tests need it, for the messages. */
  for: string;
}

export const TOOLS: Record<string, ToolInfo> = JSON.parse(
  readFileSync(new URL('./tools.json', import.meta.url), 'utf8'),
);

export type ToolName = keyof typeof TOOLS & string;

/** True when `command` is an executable file in one of PATH's folders. */
export function onPath(command: string, pathVariable = process.env.PATH ?? ''): boolean {
  return pathVariable
    .split(path.delimiter)
    .filter(Boolean)
    .some((folder) => {
      try {
        accessSync(path.join(folder, command), constants.X_OK);
        return true;
      } catch {
        return false;
      }
    });
}

const noticed = new Set<string>();

/** What to say about missing tools: `supervisord is not installed (apt-get install supervisor)`. */
export function missingNote(missing: string[]): string {
  const packages = [...new Set(missing.map((m) => TOOLS[m]?.package ?? m))];
  return `${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} not installed (Debian/Ubuntu: apt-get install ${packages.join(' ')})`;
}

/**
 * The listed programs that are not on PATH. Under CI=true any missing one throws, naming it and
 * its package; otherwise a NOTICE is printed once per program and process.
 */
export function missingTools(commands: ToolName[], env = process.env): string[] {
  for (const command of commands) {
    if (!TOOLS[command]) throw new Error(`${command} is not listed in test/helpers/tools.json`);
  }
  const missing = commands.filter((c) => !onPath(c, env.PATH));
  if (missing.length === 0) return missing;
  const note = missingNote(missing);
  const why = missing.map((m) => TOOLS[m]!.for).join('; ');
  if (env.CI === 'true') {
    throw new Error(
      `${note}; CI=true runs every test, and ${why}. .ci/run installs it: run it, or install the package.`,
    );
  }
  const fresh = missing.filter((m) => !noticed.has(m));
  if (fresh.length > 0) {
    fresh.forEach((m) => noticed.add(m));
    process.stderr.write(`\nNOTICE: ${note}, so these tests are skipped: ${why}.\n`);
  }
  return missing;
}

/**
 * `describe` that needs `commands`: without them (and not under CI) it holds one skipped test
 * whose note says what to install, and its hooks never run.
 */
export function describeWithTools(commands: ToolName[], name: string, fn: () => void): void {
  const missing = missingTools(commands);
  if (missing.length === 0) {
    describe(name, fn);
    return;
  }
  const note = missingNote(missing);
  describe(name, () => {
    it(`needs ${missing.join(', ')}`, (ctx) => ctx.skip(note));
  });
}

/** `it` that needs `commands`: skipped with a note that says what to install, when missing. */
export function itWithTools(
  commands: ToolName[],
  name: string,
  fn: TestFunction,
  timeout?: number,
): void {
  const missing = missingTools(commands);
  if (missing.length === 0) it(name, fn, timeout);
  else it(name, (ctx) => ctx.skip(missingNote(missing)));
}
