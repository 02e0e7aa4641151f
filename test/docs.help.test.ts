/**
 * The README says what the help says, word for word: each command's line in the README's
 * command tables is its `run --help` summary, which is its own `run CMD --help` description;
 * each flag in the README's `queue:work` table is described as `run queue:work --help` does.
 * A change to one without the other fails here.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../src/cli/manifest.js';
import { REPO_ROOT } from './helpers/cli.js';

const README = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
/** Flags every command takes; the README describes them once, above the command tables. */
const GLOBAL_FLAGS = ['--config', '--verbose', '--help'];

/** The body of a `## title` section, up to the next `## ` heading. */
function section(title: string): string {
  const start = README.indexOf(`\n## ${title}\n`);
  if (start < 0) throw new Error(`README has no "## ${title}" section`);
  const end = README.indexOf('\n## ', start + 4);
  return README.slice(start, end < 0 ? undefined : end);
}

/** Rows of the markdown tables in `text` whose first cell starts with a backtick. */
function tableRows(text: string): string[][] {
  return text
    .split('\n')
    .filter((line) => line.startsWith('| `'))
    .map((line) =>
      line
        .slice(1, -1)
        .split(/(?<!\\)\|/)
        .map((cell) => cell.trim().replace(/\\\|/g, '|')),
    );
}

const plain = (markdown: string) => markdown.replace(/`/g, '');
const capitalized = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

async function commandOf(name: string): Promise<Command> {
  const entry = COMMANDS.find((c) => c.name === name);
  if (!entry) throw new Error(`no command ${name}`);
  return (await entry.load()).default();
}

describe('README and help agree', () => {
  it("lists every command with its help summary and example; the summary is the command's own description", async () => {
    const commands = section('Commands');
    const rows = tableRows(commands.slice(0, commands.indexOf('### Exit codes')));
    const listed = rows.map(([name]) => plain(name!));
    expect(listed.sort()).toEqual(COMMANDS.map((c) => c.name).sort());
    for (const [name, summary, example] of rows) {
      const entry = COMMANDS.find((c) => c.name === plain(name!))!;
      expect(plain(summary!), entry.name).toBe(entry.summary);
      expect(plain(example!), entry.name).toBe(entry.example);
      expect((await commandOf(entry.name)).description(), entry.name).toBe(entry.summary);
    }
  });

  it('describes every queue:work flag as `run queue:work --help` does', async () => {
    const command = await commandOf('queue:work');
    const help = new Map(
      command.options
        .filter((o) => !GLOBAL_FLAGS.includes(o.long!))
        // A default written into the description goes to the README's Default column.
        .map((o) => [o.long!, capitalized(o.description.replace(/ \(default: [^)]*\)$/, ''))]),
    );
    const rows = tableRows(section('Running workers'));
    const readme = new Map(
      rows.map(([flag, meaning]) => [plain(flag!).split(' ')[0]!, plain(meaning!)]),
    );
    expect([...readme.keys()].sort()).toEqual([...help.keys()].sort());
    for (const [flag, meaning] of help) expect(readme.get(flag), flag).toBe(meaning);
  });
});
