/*
 * mail_receipts (migrations/0012): the outcome of a `mail.send` job whose payload carries a
 * `receipt`, written by the job and read (then deleted) by the sender that waits for it. One
 * function per statement, for SQLite and PostgreSQL. Texts are stored masked and bounded.
 */
import type { Database } from '../db/connection.js';
import { redact } from '../logging/redact.js';
import { ERROR_MAX, storableMessage } from '../util/stored-text.js';

export type ReceiptStatus = 'sent' | 'retrying' | 'failed';

export interface Receipt {
  receipt: string;
  jobId: string;
  status: ReceiptStatus;
  messageId: string | null;
  response: string | null;
  error: string | null;
  attempt: number;
  updatedAt: number;
}

const text = (value: string | null | undefined) =>
  value == null ? null : storableMessage(redact(value), ERROR_MAX);

/** Writes (or overwrites: a later attempt) the outcome under its receipt. */
export async function recordReceipt(db: Database, r: Omit<Receipt, 'updatedAt'>): Promise<void> {
  const row = {
    receipt: r.receipt,
    job_id: r.jobId,
    status: r.status,
    message_id: text(r.messageId),
    response: text(r.response),
    error: text(r.error),
    attempt: r.attempt,
    updated_at: Date.now(),
  };
  await db.knex('mail_receipts').insert(row).onConflict('receipt').merge();
}

/** The receipts among `receipts` that have been written, in any order. */
export async function readReceipts(db: Database, receipts: string[]): Promise<Receipt[]> {
  const rows = (await db.knex('mail_receipts').whereIn('receipt', receipts)) as Array<
    Record<string, unknown>
  >;
  return rows.map((row) => ({
    receipt: String(row.receipt),
    jobId: String(row.job_id),
    status: row.status as ReceiptStatus,
    messageId: (row.message_id as string | null) ?? null,
    response: (row.response as string | null) ?? null,
    error: (row.error as string | null) ?? null,
    attempt: Number(row.attempt),
    updatedAt: Number(row.updated_at),
  }));
}

/** Deletes the receipts once read. */
export async function deleteReceipts(db: Database, receipts: string[]): Promise<void> {
  await db.knex('mail_receipts').whereIn('receipt', receipts).delete();
}

/**
 * Failed jobs among `jobIds` (mail.send, failed at or after `since`, epoch ms) and the first
 * line of their error: jobs that failed before they could write a receipt (a worker whose
 * environment has no mail settings does not know mail.send).
 */
export async function failedJobsAmong(
  db: Database,
  jobIds: string[],
  since: number,
): Promise<Map<string, string>> {
  const rows = (await db
    .knex('failed_jobs')
    .whereIn('original_id', jobIds)
    .where('name', 'mail.send')
    .where('failed_at', '>=', since)
    .select('original_id', 'exception')) as Array<{ original_id: string; exception: string }>;
  return new Map(rows.map((r) => [String(r.original_id), String(r.exception).split('\n')[0]!]));
}
