import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';
import { redact } from './redact.js';

export type { Logger };

export interface LoggerOptions {
  /** pino level name. */
  level: string;
  /** JSON lines go here; the folder is created. */
  file: string;
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

/**
 * JSON lines (pino) to the log file, secrets redacted from every line before it is written,
 * plus a readable line on a terminal.
 */
export function createLogger(options: LoggerOptions): Logger {
  mkdirSync(dirname(options.file), { recursive: true });
  // Synchronous writes: a CLI exits right after it logs, and an async buffer would lose lines.
  const file = pino.destination({ dest: options.file, sync: true });
  const streams: pino.StreamEntry[] = [{ stream: file, level: 'trace' }];
  if (options.pretty) streams.push({ stream: prettyStream(options.pretty), level: 'trace' });
  return pino(
    {
      level: options.level,
      base: { pid: process.pid },
      hooks: { streamWrite: redact },
    },
    pino.multistream(streams),
  );
}
