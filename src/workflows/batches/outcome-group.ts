/*
 * Group commit for batch outcomes: the outcomes a process records on one storage in the same
 * turn of the event loop go together in one write (as the worker's completions do,
 * src/worker/completions.ts), and those recorded while a write is in flight go in the next, so
 * jobs settling together cost one write; a lone job waits one turn, no timer. Every job of a
 * batch changes the same job_batches row: written one at a time, the batch's jobs settled one
 * after another (bench/batch.mjs: ~1 ms each on PostgreSQL). Writing the first outcome of a
 * turn at once, alone, made every other SQLite transaction a group of one (bench/batch.mjs:
 * groups of 1 and 9 in turn for a worker of concurrency 10).
 */
import type { Knex } from 'knex';
import type { RecordedOutcome, Recording } from './record-outcome.js';

/** The most outcomes one write takes (a statement's parameters: 5 each). */
const MAX_GROUP = 500;

type Write = (db: Knex, list: Recording[]) => Promise<RecordedOutcome[]>;

interface Waiting {
  o: Recording;
  resolve: (r: RecordedOutcome) => void;
  reject: (e: unknown) => void;
}

class OutcomeGroup {
  private waiting: Waiting[] = [];
  /** A flush is scheduled or running: what is added meanwhile goes with it or the next write. */
  private writing = false;

  constructor(
    private readonly db: Knex,
    private readonly write: Write,
  ) {}

  add(o: Recording): Promise<RecordedOutcome> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ o, resolve, reject });
      if (!this.writing) {
        this.writing = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  /** Writes what waits, then what came meanwhile, until nothing waits. */
  private async flush(): Promise<void> {
    try {
      while (this.waiting.length > 0) {
        const group = this.waiting.splice(0, MAX_GROUP);
        try {
          const results = await this.write(
            this.db,
            group.map((w) => w.o),
          );
          group.forEach((w, i) => w.resolve(results[i]!));
        } catch (error) {
          // Each job's settle retries its own record (the worker's settling-write retries).
          for (const w of group) w.reject(error);
        }
      }
    } finally {
      this.writing = false;
    }
  }
}

const groups = new WeakMap<Knex, OutcomeGroup>();

/** The group of `db` (one per storage connection pool), made on first use. */
export function outcomeGroup(db: Knex, write: Write): OutcomeGroup {
  let group = groups.get(db);
  if (!group) groups.set(db, (group = new OutcomeGroup(db, write)));
  return group;
}
