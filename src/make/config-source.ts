/*
 * Reading a config file's source well enough to edit it: `make:job` adds an import and an entry
 * in `jobs: [...]`, and must never edit a comment (`// jobs: [old],`) or a string that only
 * looks like code. Not a parser: comments and string literals are blanked out, and the edits
 * are found in what is left.
 */

/**
 * `text` with every comment and the inside of every string and template literal replaced by
 * spaces (newlines kept), so offsets match the original. Regular expression literals are not
 * recognised; a config rarely has one, and at worst the job is not registered automatically.
 */
export function blankCommentsAndStrings(text: string): string {
  const out = text.split('');
  const blank = (from: number, to: number) => {
    for (let i = from; i < to; i++) if (out[i] !== '\n') out[i] = ' ';
  };
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    const next = text[i + 1];
    if (c === '/' && next === '/') {
      const end = text.indexOf('\n', i);
      const stop = end === -1 ? text.length : end;
      blank(i, stop);
      i = stop;
    } else if (c === '/' && next === '*') {
      const end = text.indexOf('*/', i + 2);
      const stop = end === -1 ? text.length : end + 2;
      blank(i, stop);
      i = stop;
    } else if (c === '"' || c === "'" || c === '`') {
      let j = i + 1;
      while (j < text.length && text[j] !== c) j += text[j] === '\\' ? 2 : 1;
      // Keep the quotes, blank what is between them.
      blank(i + 1, Math.min(j, text.length));
      i = j + 1;
    } else {
      i++;
    }
  }
  return out.join('');
}

/** Where the entries of the one `jobs: [` list start and end, or undefined if not exactly one. */
export function findJobsList(text: string): { start: number; end: number } | undefined {
  const code = blankCommentsAndStrings(text);
  const matches = [...code.matchAll(/\bjobs\s*:\s*\[/g)];
  if (matches.length !== 1) return undefined;
  const start = matches[0]!.index! + matches[0]![0].length;
  let depth = 1;
  for (let i = start; i < code.length; i++) {
    if (code[i] === '[') depth++;
    else if (code[i] === ']' && --depth === 0) return { start, end: i };
  }
  return undefined;
}

/** Offset just after the last top-level `import ...;` statement (0 when there is none). */
export function afterLastImport(text: string): number {
  const code = blankCommentsAndStrings(text);
  const imports = [...code.matchAll(/^import\b[^;]*;[ \t]*\n?/gm)];
  const last = imports.pop();
  return last ? last.index! + last[0].length : 0;
}

/** True when `name` appears as an identifier in the code (outside comments and strings). */
export function usesIdentifier(text: string, name: string): boolean {
  const code = blankCommentsAndStrings(text);
  return new RegExp(`(^|[^\\w$.])${name}(?![\\w$])`).test(code);
}
