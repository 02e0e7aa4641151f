/**
 * The integrations (Telegram, GPT, mail, token purge, telemetry, alerts, the dashboard) sit on the core's public API: nothing in
 * the core imports them, and a command that does not use them never loads them or their client
 * libraries. Checked on the sources' static imports (`import ... from`, `export ... from`), the
 * ones that load with a module; an `import()` inside a function loads only when it runs, and
 * `import type` never loads.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '..');
const INTEGRATIONS = [
  'telegram',
  'channels',
  'gpt',
  'mail',
  'tokens',
  'telemetry',
  'alerts',
  'http',
];
const CLIENT_LIBRARIES = [
  'grammy',
  'openai',
  'nodemailer',
  'telegram',
  'prom-client',
  'hono',
  '@hono/node-server',
];

/** The modules a file loads with it: relative ones as absolute .ts paths, packages by name. */
function staticImports(file: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest);
  const found: string[] = [];
  for (const statement of source.statements) {
    let specifier: ts.Expression | undefined;
    if (ts.isImportDeclaration(statement)) {
      const clause = statement.importClause;
      const typeOnly =
        clause?.isTypeOnly ||
        (clause !== undefined &&
          clause.name === undefined &&
          clause.namedBindings !== undefined &&
          ts.isNamedImports(clause.namedBindings) &&
          clause.namedBindings.elements.length > 0 &&
          clause.namedBindings.elements.every((e) => e.isTypeOnly));
      if (!typeOnly) specifier = statement.moduleSpecifier;
    } else if (ts.isExportDeclaration(statement) && !statement.isTypeOnly) {
      specifier = statement.moduleSpecifier;
    }
    if (!specifier || !ts.isStringLiteral(specifier)) continue;
    const name = specifier.text;
    if (name.startsWith('.')) {
      found.push(path.resolve(path.dirname(file), name).replace(/\.js$/, '.ts'));
    } else if (!name.startsWith('node:')) {
      found.push(
        name.startsWith('@') ? name.split('/').slice(0, 2).join('/') : name.split('/')[0]!,
      );
    }
  }
  return found;
}

/** Every module `entry` loads, directly or not, as paths relative to the root and package names. */
function loadedBy(entry: string): Set<string> {
  const seen = new Set<string>();
  const queue = [path.resolve(ROOT, entry)];
  for (let file = queue.pop(); file !== undefined; file = queue.pop()) {
    for (const next of staticImports(file)) {
      const key = path.isAbsolute(next) ? path.relative(ROOT, next) : next;
      if (seen.has(key)) continue;
      seen.add(key);
      if (path.isAbsolute(next)) queue.push(next);
    }
  }
  return seen;
}

const integrationOf = (module: string) =>
  INTEGRATIONS.find((name) => module.startsWith(`src/${name}/`)) ??
  (module === 'src/integrations.ts' ? 'integrations.ts' : undefined) ??
  CLIENT_LIBRARIES.find((name) => module === name);

function sourceFiles(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir)).flatMap((name) => {
    const rel = path.join(dir, name);
    if (statSync(path.join(ROOT, rel)).isDirectory()) return sourceFiles(rel);
    return rel.endsWith('.ts') ? [rel] : [];
  });
}

/** Commands that are an integration's own (they may load it). */
const INTEGRATION_COMMANDS =
  /^commands\/(telegram-|gpt-|longpoll|scheduled-dispatch|test-email|purge-tokens|alerts-)/;

describe('integration boundaries', () => {
  it('the core loads no integration: no file outside their folders imports one statically', () => {
    const core = sourceFiles('src').filter(
      (f) =>
        !INTEGRATIONS.some((name) => f.startsWith(`src/${name}/`)) && f !== 'src/integrations.ts',
    );
    expect(core.length).toBeGreaterThan(50);
    const offenders = core.flatMap((file) =>
      staticImports(path.join(ROOT, file))
        .map((m) => (path.isAbsolute(m) ? path.relative(ROOT, m) : m))
        .filter((m) => integrationOf(m) !== undefined)
        .map((m) => `${file} -> ${m}`),
    );
    expect(offenders).toEqual([]);
  });

  it('the package entry, the CLI and every other command load no integration and no client library', () => {
    const entries = [
      'src/index.ts',
      'src/cli/main.ts',
      ...sourceFiles('commands').filter((f) => !INTEGRATION_COMMANDS.test(f)),
    ];
    expect(entries.length).toBeGreaterThan(25);
    const offenders = entries.flatMap((entry) =>
      [...loadedBy(entry)]
        .filter((m) => integrationOf(m) !== undefined)
        .map((m) => `${entry} loads ${m}`),
    );
    expect(offenders).toEqual([]);
  });

  it('telemetry loads no other integration, and prom-client only when it starts (never with a module)', () => {
    const telemetry = sourceFiles('src/telemetry');
    expect(telemetry.length).toBeGreaterThan(5);
    const offenders = telemetry.flatMap((entry) =>
      [...loadedBy(entry)]
        .filter((m) => integrationOf(m) !== undefined && !m.startsWith('src/telemetry/'))
        .map((m) => `${entry} loads ${m}`),
    );
    expect(offenders).toEqual([]);
  });

  it('sees through to what a module loads: an integration command loads its integration, the CLI commander', () => {
    expect(
      [...loadedBy('commands/telegram-send.ts')].some((m) => m.startsWith('src/telegram/')),
    ).toBe(true);
    expect([...loadedBy('commands/queue-size.ts')]).toContain('commander');
  });

  it('channels loads GramJS (`telegram`) only when a source connects or an error is mapped, never with a module', () => {
    const channels = sourceFiles('src/channels');
    expect(channels.length).toBeGreaterThan(5);
    const offenders = channels.flatMap((entry) =>
      [...loadedBy(entry)].filter((m) => m === 'telegram').map((m) => `${entry} loads ${m}`),
    );
    expect(offenders).toEqual([]);
    // The adapter does use it, through import() at run time (gramjs-client.ts makes its clients).
    expect(readFileSync(path.join(ROOT, 'src/channels/gramjs-client.ts'), 'utf8')).toContain(
      "await import('telegram')",
    );
  });

  it('loads OpenTelemetry only at run time: no static import of src/telemetry/traces or @opentelemetry', () => {
    const all = sourceFiles('src').concat(sourceFiles('commands'), ['src/cli/main.ts']);
    const offenders = all.flatMap((file) =>
      staticImports(path.join(ROOT, file))
        .map((m) => (path.isAbsolute(m) ? path.relative(ROOT, m) : m))
        .filter(
          (m) =>
            // Inside the folder, its files load each other; only the API's types are imported.
            (m.startsWith('src/telemetry/traces/') && !file.startsWith('src/telemetry/traces/')) ||
            m.startsWith('@opentelemetry/'),
        )
        .map((m) => `${file} -> ${m}`),
    );
    expect(offenders).toEqual([]);
    // And the check sees such an import: the folder's own files do load each other.
    expect(staticImports(path.join(ROOT, 'src/telemetry/traces/index.ts'))).toContain(
      path.join(ROOT, 'src/telemetry/traces/carrier.ts'),
    );
  });
});
