import { Chalk } from 'chalk';

/**
 * True when colour is off by the environment: NO_COLOR set to anything but '' (no-color.org),
 * unless FORCE_COLOR asks for colour, which wins as it does in Node itself. chalk reads
 * FORCE_COLOR and the terminal, but not NO_COLOR.
 */
export function noColor(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.NO_COLOR !== undefined && env.NO_COLOR !== '' && env.FORCE_COLOR === undefined;
}

// Colour follows the terminal (chalk's detection, FORCE_COLOR included) and NO_COLOR.
const chalk = noColor() ? new Chalk({ level: 0 }) : new Chalk();

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
    // cli-table3 paints its borders grey on its own: no colour means none there either.
    const table = new Table({
      head: head.map((h) => paint.bold(h)),
      style: { head: [], border: chalk.level === 0 ? [] : ['grey'] },
    });
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
