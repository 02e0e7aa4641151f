/*
 * A better-sqlite3 transaction made once and run many times. `db.transaction(fn)` builds four
 * wrapper functions and defines their properties on each call: about 4 µs on the test machine,
 * twice what running a small transaction costs. Made per call on the hot path (each claim,
 * completion and dispatch), it was a measurable share of a no-op job's whole cost; made once,
 * it is paid once per connection.
 */
import type BetterSqlite3 from 'better-sqlite3';

/**
 * `fn` wrapped as a `BEGIN IMMEDIATE` transaction on `db` (the write lock taken at the start, so
 * no other process's write falls between its reads and its writes). Call the result as `fn`:
 * it commits when `fn` returns and rolls back when it throws. Make it once, not per call.
 */
export function immediateTransaction<Args extends unknown[], Result>(
  db: BetterSqlite3.Database,
  fn: (...args: Args) => Result,
): (...args: Args) => Result {
  return db.transaction(fn).immediate;
}
