/**
 * Splits a command line into arguments the way a POSIX shell does for the simple cases:
 * whitespace separates, single quotes keep everything, double quotes keep everything but `\"`
 * and `\\`, a backslash outside quotes escapes the next character. No variables, globs or
 * pipes: the command runs without a shell. Returns undefined for an unterminated quote.
 */
export function splitArgs(line: string): string[] | undefined {
  const args: string[] = [];
  let current = '';
  let started = false;
  let quote: "'" | '"' | undefined;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quote === "'") {
      if (ch === "'") quote = undefined;
      else current += ch;
    } else if (quote === '"') {
      if (ch === '"') quote = undefined;
      else if (ch === '\\' && (line[i + 1] === '"' || line[i + 1] === '\\')) current += line[++i];
      else current += ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      started = true;
    } else if (ch === '\\' && i + 1 < line.length) {
      current += line[++i];
      started = true;
    } else if (/\s/.test(ch)) {
      if (started) args.push(current);
      current = '';
      started = false;
    } else {
      current += ch;
      started = true;
    }
  }
  if (quote) return undefined;
  if (started) args.push(current);
  return args;
}

/** Quotes arguments for display, so `schedule:list` shows a line a shell would read back. */
export function joinArgs(args: string[]): string {
  return args
    .map((a) => (/^[A-Za-z0-9_./:=,@%+-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`))
    .join(' ');
}
