/*
 * One statement, prepared once per SQLite connection, run for each row of a batch in one
 * transaction. knex builds and prepares a new statement for every query (and a multi-row insert
 * is a new statement per batch size), which costs a busy worker more than the write itself:
 * this is a third of that time, paid on the worker's own thread.
 */
import type { Knex } from 'knex';

type SqliteConnection = import('better-sqlite3').Database;

type BatchWriter<Row> = (rows: readonly Row[]) => Promise<void>;

/** knex instance → SQL → its writer: one per statement and storage, made on first use. */
const writers = new WeakMap<Knex, Map<string, BatchWriter<never>>>();

/**
 * A batch writer for `sql` on knex's SQLite connection, or undefined when knex is on another
 * database (the caller then uses knex). `paramsOf` turns a row into the statement's parameters;
 * the same `sql` on the same knex always gets the same writer (and its first `paramsOf`).
 */
export function sqliteBatchWriter<Row>(
  knex: Knex,
  sql: string,
  paramsOf: (row: Row) => unknown[],
): BatchWriter<Row> | undefined {
  const client = knex.client as Knex.Client;
  if ((client.config as { client?: unknown }).client !== 'better-sqlite3') return undefined;
  let bySql = writers.get(knex);
  if (!bySql) writers.set(knex, (bySql = new Map()));
  const known = bySql.get(sql) as BatchWriter<Row> | undefined;
  if (known) return known;
  const prepared = new WeakMap<SqliteConnection, (rows: readonly Row[]) => void>();
  const writer: BatchWriter<Row> = async (rows) => {
    const conn = (await client.acquireConnection()) as SqliteConnection;
    try {
      let write = prepared.get(conn);
      if (!write) {
        const statement = conn.prepare(sql);
        write = conn.transaction((batch: readonly Row[]) => {
          for (const row of batch) statement.run(paramsOf(row));
        });
        prepared.set(conn, write);
      }
      write(rows);
    } finally {
      await client.releaseConnection(conn);
    }
  };
  bySql.set(sql, writer as BatchWriter<never>);
  return writer;
}
