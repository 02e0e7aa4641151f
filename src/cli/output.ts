import { Chalk } from 'chalk';

// Colour follows the terminal and NO_COLOR (chalk's own detection honours both, plus FORCE_COLOR).
const chalk = new Chalk();

export const paint = {
  red: (s: string) => chalk.red(s),
  green: (s: string) => chalk.green(s),
  yellow: (s: string) => chalk.yellow(s),
  dim: (s: string) => chalk.dim(s),
  bold: (s: string) => chalk.bold(s),
  cyan: (s: string) => chalk.cyan(s),
};

/** Prints `value` as pretty JSON on stdout, for `--json`. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Prints a table on a terminal (cli-table3), or aligned plain columns when piped. */
export async function printTable(
  head: string[],
  rows: Array<Array<string | number>>,
): Promise<void> {
  if (process.stdout.isTTY) {
    const { default: Table } = await import('cli-table3');
    const table = new Table({ head: head.map((h) => paint.bold(h)), style: { head: [] } });
    table.push(...rows.map((r) => r.map(String)));
    process.stdout.write(`${table.toString()}\n`);
    return;
  }
  const cells = [head, ...rows.map((r) => r.map(String))];
  const widths = head.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  for (const row of cells) {
    process.stdout.write(
      `${row
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd()}\n`,
    );
  }
}

/** A line for people on stdout. */
export function say(line: string): void {
  process.stdout.write(`${line}\n`);
}
