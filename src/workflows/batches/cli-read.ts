/**
 * The batch commands' reading of job_batches, through the engine's store (store.ts): a batch
 * as the commands show it, and the checks of a batch id given on the command line.
 */
import type { Knex } from 'knex';
import { JobsmithError, UsageError } from '../../errors.js';
import { printable } from '../../logging/printable.js';
import type { BatchView } from './cli-present.js';
import {
  findBatch,
  listBatches,
  OUTCOMES,
  type BatchRecord,
  type BatchCallbackKind,
} from './store.js';

/** The longest batch id the commands take: ids are uuids (36 characters). */
const MAX_ID = 200;

/** Checks a batch id given as an argument: printable ASCII without spaces, at most MAX_ID characters. */
export function batchArgument(value: string, what = 'A batch id'): string {
  const id = value.trim();
  if (id.length > MAX_ID || !/^[\x21-\x7e]+$/.test(id)) {
    throw new UsageError(
      `${what} is the id batch() returned or batch:list shows (a uuid), got "${printable(value).slice(0, 80)}".`,
      { hint: 'Run `run batch:list` to see the batches.' },
    );
  }
  return id;
}

/** commander's parser for a flag that takes a batch id (--after). */
export function batchIdFlag(flag: string) {
  return (value: string) => batchArgument(value, flag);
}

/** The batch as the commands show it; a JobsmithError (exit 1) when no batch has the id. */
export async function findBatchView(knex: Knex, id: string): Promise<BatchView> {
  const record = await findBatch(knex, id);
  if (!record) throw noSuchBatch(id);
  return toView(record);
}

/** A page of batches, newest first (store.ts listBatches). */
export async function listBatchViews(
  knex: Knex,
  page: { limit: number; after?: string },
): Promise<BatchView[]> {
  return (await listBatches(knex, page)).map(toView);
}

/**
 * How many of the batch's jobs ended `cancelled` (skipped when claimed after a cancel, or
 * cancelled while they ran), from their outcome rows (kept until queue:prune-batches).
 */
export async function cancelledJobsOf(knex: Knex, id: string): Promise<number> {
  const row = (await knex(OUTCOMES)
    .where({ batch_id: id, outcome: 'cancelled' })
    .count({ n: '*' })
    .first()) as { n: unknown } | undefined;
  return Number(row?.n ?? 0);
}

export function noSuchBatch(id: string): JobsmithError {
  return new JobsmithError(`No batch with id "${printable(id)}".`, {
    hint: 'Run `run batch:list` to see the batches; `run queue:prune-batches` deletes old ones.',
  });
}

const KINDS: BatchCallbackKind[] = ['then', 'catch', 'finally'];

export function toView(r: BatchRecord): BatchView {
  const callbacks = Object.fromEntries(
    KINDS.map((kind) => {
      const step = r.options[kind];
      return [
        kind,
        step ? { name: step.name, queue: step.queue, ranAs: r.options.ran[kind] ?? null } : null,
      ];
    }),
  ) as unknown as BatchView['callbacks'];
  return {
    id: r.id,
    name: r.name,
    total: r.total,
    pending: r.pending,
    failed: r.failed,
    failedJobIds: r.failedJobIds,
    allowFailures: r.options.allowFailures,
    connection: r.options.connection,
    callbacks,
    cancelledAt: r.cancelledAt,
    createdAt: r.createdAt,
    finishedAt: r.finishedAt,
  };
}
