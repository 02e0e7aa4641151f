import { ConfigError, UsageError } from '../../errors.js';
import { splitLines } from '../../util/lines.js';
import type { NewJob } from '../driver.js';
import { JobSpool } from './spool.js';

const NOTHING = 'Nothing was dispatched: fix that line and run the command again.';

/**
 * Reads newline-delimited JSON (one payload a line; blank lines are skipped) and validates each
 * payload into a job on disk (JobSpool), holding one line at a time in memory. Line numbers in
 * errors are those of the input, blank lines counted. `prepare` turns a payload into a job
 * (schema, options); `check` is the driver's own check (QueueDriver.check), so that a line the
 * storage would refuse is found before anything is stored.
 *
 * @throws UsageError for the first line that is not JSON or not a valid job (the spool removed),
 * or when the input holds no payload at all.
 */
export async function spoolNdjson(
  input: AsyncIterable<Buffer | string>,
  prepare: (payload: unknown) => NewJob,
  check?: (job: NewJob) => void,
): Promise<JobSpool> {
  const spool = new JobSpool();
  try {
    let line = 0;
    for await (const raw of splitLines(input)) {
      line++;
      // A byte-order mark (Windows editors) is not part of the first payload.
      const text = (line === 1 ? raw.replace(/^\uFEFF/, '') : raw).trim();
      if (text === '') continue;
      let payload: unknown;
      try {
        payload = JSON.parse(text);
      } catch (error) {
        throw new UsageError(`stdin line ${line} is not valid JSON: ${(error as Error).message}`, {
          hint: NOTHING,
        });
      }
      let job: NewJob;
      try {
        job = prepare(payload);
        check?.(job);
      } catch (error) {
        // The environment's fault (APP_KEY for an encrypted job), the same for every line.
        if (error instanceof ConfigError) throw error;
        throw new UsageError(`stdin line ${line}: ${(error as Error).message}`, { hint: NOTHING });
      }
      spool.add(line, job);
    }
    if (spool.count === 0) {
      throw new UsageError('No payload: stdin was empty. Give --payload JSON or pipe JSON lines.');
    }
    return spool;
  } catch (error) {
    spool.dispose();
    throw error;
  }
}
