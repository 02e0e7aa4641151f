import { readFileSync } from 'node:fs';
import { splitArgs } from '../schedule/args.js';
import { parseDuration } from '../util/duration.js';

/** supervisord's default when a program sets no stopwaitsecs. */
export const SUPERVISOR_DEFAULT_STOPWAITSECS = 10;
/** `--grace` of queue:work and schedule:work when the command line sets none, ms. */
export const DEFAULT_GRACE_MS = 30_000;

/** A [program:x] section that runs a jobsmith worker or scheduler. */
export interface SupervisedProgram {
  program: string;
  /** `queue:work` or `schedule:work`. */
  command: string;
  stopwaitsecs: number;
  /** --grace in ms, or undefined when the value cannot be read (a %(ENV_X)s expansion). */
  graceMs?: number;
  graceText: string;
  /** `true`, `false` or `unexpected` (supervisor's default). */
  autorestart: string;
  /** Exit codes supervisor counts as expected. @defaultValue [0] */
  exitcodes: number[];
  /** Signal supervisor stops it with, without `SIG`. @defaultValue 'TERM' */
  stopsignal: string;
}

/**
 * Reads the programs of a supervisor conf that run `queue:work` or `schedule:work`. INI as
 * supervisor reads it: `key=value` or `key: value`, `;`/`#` comments, indented continuation
 * lines.
 */
export function readSupervisorConf(file: string): SupervisedProgram[] {
  const sections = parseIni(readFileSync(file, 'utf8'));
  const programs: SupervisedProgram[] = [];
  for (const [section, values] of sections) {
    const match = /^program:(.+)$/.exec(section);
    if (!match || !values.command) continue;
    const args = splitArgs(values.command) ?? values.command.split(/\s+/);
    const command = args.find((a) => a === 'queue:work' || a === 'schedule:work');
    if (!command) continue;
    const graceText = flagValue(args, '--grace');
    programs.push({
      program: match[1]!,
      command,
      stopwaitsecs:
        values.stopwaitsecs === undefined
          ? SUPERVISOR_DEFAULT_STOPWAITSECS
          : Number(values.stopwaitsecs),
      graceMs: graceText === undefined ? DEFAULT_GRACE_MS : parseDuration(graceText),
      graceText: graceText ?? '30s (default)',
      autorestart: (values.autorestart ?? 'unexpected').toLowerCase(),
      exitcodes: (values.exitcodes ?? '0').split(',').map((c) => Number(c.trim())),
      stopsignal: (values.stopsignal ?? 'TERM').toUpperCase().replace(/^SIG/, ''),
    });
  }
  return programs;
}

function flagValue(args: string[], flag: string): string | undefined {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === flag) return args[i + 1];
    if (args[i]!.startsWith(`${flag}=`)) return args[i]!.slice(flag.length + 1);
  }
  return undefined;
}

function parseIni(text: string): Map<string, Record<string, string>> {
  const sections = new Map<string, Record<string, string>>();
  let current: Record<string, string> | undefined;
  let lastKey: string | undefined;
  for (const raw of text.split(/\r?\n/)) {
    if (/^\s*([;#].*)?$/.test(raw)) continue;
    const header = /^\[([^\]]+)\]\s*$/.exec(raw.trim());
    if (header) {
      current = {};
      sections.set(header[1]!.trim(), current);
      lastKey = undefined;
      continue;
    }
    if (!current) continue;
    if (/^\s/.test(raw) && lastKey) {
      current[lastKey] += ` ${stripComment(raw.trim())}`;
      continue;
    }
    const pair = /^([^=:]+?)\s*[=:]\s*(.*)$/.exec(raw);
    if (!pair) continue;
    lastKey = pair[1]!.trim().toLowerCase();
    current[lastKey] = stripComment(pair[2]!);
  }
  return sections;
}

/** Supervisor treats ` ;` (whitespace then semicolon) as the start of an inline comment. */
function stripComment(value: string): string {
  return value.replace(/\s+;.*$/, '').trim();
}
