import { createReadStream, closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PRIVATE_FILE } from '../../util/files.js';
import { splitLines } from '../../util/lines.js';
import type { NewJob, PushResult } from '../driver.js';

/** Buffered text is written out once it is this large (bytes, roughly). */
const FLUSH_AT = 1 << 20;

/**
 * An append-only file of lines in a private temporary folder, written in large synchronous
 * appends and read back as a stream: what lets a bulk dispatch hold a million jobs on disk
 * instead of in memory. `dispose()` removes it.
 */
class LineFile {
  private fd: number | undefined;
  private buffer: string[] = [];
  private buffered = 0;

  constructor(readonly path: string) {
    this.fd = openSync(path, 'w', PRIVATE_FILE);
  }

  append(line: string): void {
    this.buffer.push(line, '\n');
    this.buffered += line.length + 1;
    if (this.buffered >= FLUSH_AT) this.flush();
  }

  /** Writes out what is buffered; the lines appended so far can then be read. */
  flush(): void {
    if (this.buffered === 0 || this.fd === undefined) return;
    writeSync(this.fd, this.buffer.join(''));
    this.buffer = [];
    this.buffered = 0;
  }

  lines(): AsyncGenerator<string> {
    this.flush();
    return splitLines(createReadStream(this.path, { highWaterMark: 1 << 16 }));
  }

  close(): void {
    this.flush();
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

/**
 * The validated jobs of a bulk dispatch, on disk in input order, each with the line of the input
 * it came from; and the results of storing them. Lives in its own 0700 folder under the
 * system's temporary folder (TMPDIR) until `dispose()`.
 */
export class JobSpool {
  private readonly dir: string;
  private readonly jobs: LineFile;
  private readonly results: LineFile;
  private jobCount = 0;
  private resultCount = 0;

  constructor() {
    this.dir = mkdtempSync(join(tmpdir(), 'jobsmith-dispatch-'));
    this.jobs = new LineFile(join(this.dir, 'jobs.ndjson'));
    this.results = new LineFile(join(this.dir, 'results.txt'));
  }

  /** Jobs added so far. */
  get count(): number {
    return this.jobCount;
  }

  /** Results recorded so far. */
  get stored(): number {
    return this.resultCount;
  }

  /** Adds a validated job that came from input line `line`. */
  add(line: number, job: NewJob): void {
    this.jobs.append(`${line}\t${JSON.stringify(job)}`);
    this.jobCount++;
  }

  /** The jobs, `size` at a time, in order; may be read more than once. */
  async *batches(size: number): AsyncGenerator<NewJob[]> {
    let batch: NewJob[] = [];
    for await (const record of this.jobs.lines()) {
      batch.push(JSON.parse(record.slice(record.indexOf('\t') + 1)) as NewJob);
      if (batch.length >= size) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length > 0) yield batch;
  }

  /** The input line of job number `index` (0 for the first), if there is one. */
  async lineOf(index: number): Promise<number | undefined> {
    let i = 0;
    for await (const record of this.jobs.lines()) {
      if (i++ === index) return Number(record.slice(0, record.indexOf('\t')));
    }
    return undefined;
  }

  /** Records the results of a batch, in order. */
  record(results: PushResult[]): void {
    for (const r of results) this.results.append(`${r.deduplicated ? 'd' : 'n'}${r.id}`);
    this.resultCount += results.length;
  }

  /** The results recorded, in order. */
  async *storedResults(): AsyncGenerator<PushResult> {
    for await (const line of this.results.lines()) {
      yield { id: line.slice(1), deduplicated: line[0] === 'd' };
    }
  }

  /** Closes and removes the files. Safe to call twice. */
  dispose(): void {
    this.jobs.close();
    this.results.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
