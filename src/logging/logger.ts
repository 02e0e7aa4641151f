import { openSync } from 'node:fs';
import { dirname } from 'node:path';
import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';
import { ConfigError } from '../errors.js';
import { fileProblem, makePrivateFolder, PRIVATE_FILE } from '../util/files.js';
import { boundLogLine } from './bound-line.js';
import { redact } from './redact.js';

export type { Logger };

export interface LoggerOptions {
  /** pino level name. */
  level: string;
  /** JSON lines go here, an absolute path; the file (0600) and its folder (0700) are created. */
  file: string;
  /** The setting the file comes from, for the message when it cannot be written. @defaultValue 'LOG_FILE' */
  setting?: string;
  /** Also write one readable line per log event to this stream (a terminal). */
  pretty?: NodeJS.WritableStream;
}

const LEVEL_NAMES: Record<number, string> = {
  10: 'TRACE',
  20: 'DEBUG',
  30: 'INFO',
  40: 'WARN',
  50: 'ERROR',
  60: 'FATAL',
};

function openLogFile(options: LoggerOptions): number {
  try {
    makePrivateFolder(dirname(options.file));
    return openSync(options.file, 'a', PRIVATE_FILE);
  } catch (error) {
    const setting = options.setting ?? 'LOG_FILE';
    throw new ConfigError(
      `Cannot write the log file ${options.file} (${setting}): ${fileProblem(error)}.`,
      {
        hint: `Set ${setting} to a file in a writable folder, or let the user that runs jobsmith write ${dirname(options.file)}.`,
        cause: error,
      },
    );
  }
}

/** Turns a pino JSON line into `12:00:01 WARN  message key=value`. */
function prettyStream(out: NodeJS.WritableStream): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, done) {
      try {
        const { level, time, msg, pid: _pid, hostname: _h, ...rest } = JSON.parse(chunk.toString());
        const clock = new Date(time).toISOString().slice(11, 19);
        const extra = Object.entries(rest)
          .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
          .join(' ');
        out.write(
          `${clock} ${(LEVEL_NAMES[level] ?? level).padEnd(5)} ${msg ?? ''}${extra ? ` ${extra}` : ''}\n`,
        );
      } catch {
        out.write(chunk);
      }
      done();
    },
  });
}

/** A process's loggers: both write the same JSON lines to the same file. */
export interface Loggers {
  /** To the file, and a readable line on the terminal (LoggerOptions.pretty). */
  log: Logger;
  /**
   * To the file only, for the lines of events a command renders on the terminal itself (the
   * worker's RUNNING / DONE / FAIL lines): through `log` a terminal showed each event twice.
   */
  fileLog: Logger;
}

/**
 * JSON lines (pino) to the log file, secrets redacted from every line before it is written and
 * long strings bounded (see boundLogLine), plus a readable line on a terminal.
 *
 * @throws ConfigError naming the setting, the path, why and what to do, when the file cannot be
 * created or opened for writing.
 */
export function createLogger(options: LoggerOptions): Logger {
  return createLoggers(options).log;
}

/** createLogger's logger, and a sibling that writes to the file only (Loggers.fileLog). */
export function createLoggers(options: LoggerOptions): Loggers {
  // Synchronous writes: a CLI exits right after it logs, and an async buffer would lose lines.
  // One destination for both loggers: their lines never interleave mid-line.
  const file = pino.destination({ fd: openLogFile(options), sync: true });
  const settings: pino.LoggerOptions = {
    level: options.level,
    base: { pid: process.pid },
    hooks: { streamWrite: (line) => boundLogLine(redact(line)) },
  };
  const fileLog = pino(settings, file);
  if (!options.pretty) return { log: fileLog, fileLog };
  const streams: pino.StreamEntry[] = [
    { stream: file, level: 'trace' },
    { stream: prettyStream(options.pretty), level: 'trace' },
  ];
  return { log: pino(settings, pino.multistream(streams)), fileLog };
}
