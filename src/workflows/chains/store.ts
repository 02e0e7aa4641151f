/*
 * The job_chains table (migrations/0025_job_chains.ts), one function per statement. Every
 * change is a compare-and-set on `revision`: a writer that lost the race reads again.
 */
import type { Knex } from 'knex';
import type { StoredStep } from './stored-step.js';

export type ChainStatus = 'running' | 'done' | 'failed' | 'cancelled';

/** A chain as stored. */
export interface ChainRow {
  id: string;
  connection: string | null;
  queue: string | null;
  steps: StoredStep[];
  /** Index of the latest step known to be dispatched; only grows. */
  position: number;
  /** The latest step whose append/prepend are in `steps`; -1 for none. */
  editedThrough: number;
  catchStep: StoredStep | null;
  status: ChainStatus;
  failedIndex: number | null;
  revision: number;
  createdAt: number;
  updatedAt: number;
}

/** Stores a new chain (position 0: its first step is about to be dispatched). */
export async function insertChain(
  knex: Knex,
  chain: Pick<ChainRow, 'id' | 'connection' | 'queue' | 'steps' | 'catchStep'>,
  now: number,
): Promise<void> {
  await knex('job_chains').insert({
    id: chain.id,
    connection: chain.connection,
    queue: chain.queue,
    steps: JSON.stringify(chain.steps),
    catch_step: chain.catchStep ? JSON.stringify(chain.catchStep) : null,
    position: 0,
    edited_through: -1,
    status: 'running',
    revision: 0,
    created_at: now,
    updated_at: now,
  });
}

/** The chain with this id; undefined when there is none. */
export async function findChain(knex: Knex, id: string): Promise<ChainRow | undefined> {
  const row = (await knex('job_chains').where({ id }).first()) as
    Record<string, unknown> | undefined;
  if (!row) return undefined;
  return {
    id: String(row.id),
    connection: row.connection === null ? null : String(row.connection),
    queue: row.queue === null ? null : String(row.queue),
    steps: JSON.parse(String(row.steps)) as StoredStep[],
    position: Number(row.position),
    editedThrough: Number(row.edited_through),
    catchStep: row.catch_step === null ? null : (JSON.parse(String(row.catch_step)) as StoredStep),
    status: String(row.status) as ChainStatus,
    failedIndex: row.failed_index === null ? null : Number(row.failed_index),
    revision: Number(row.revision),
    createdAt: Number(row.created_at),
    updatedAt: Number(row.updated_at),
  };
}

/** What a step's settling may change. */
export interface ChainChange {
  steps?: StoredStep[];
  position?: number;
  editedThrough?: number;
  status?: ChainStatus;
  failedIndex?: number;
}

/**
 * Writes `change` if the chain is still at `chain.revision`; true when it was written, false
 * when another writer came first (read it again).
 */
export async function updateChain(
  knex: Knex,
  chain: Pick<ChainRow, 'id' | 'revision'>,
  change: ChainChange,
  now: number,
): Promise<boolean> {
  const columns: Record<string, unknown> = { revision: chain.revision + 1, updated_at: now };
  if (change.steps !== undefined) columns.steps = JSON.stringify(change.steps);
  if (change.position !== undefined) columns.position = change.position;
  if (change.editedThrough !== undefined) columns.edited_through = change.editedThrough;
  if (change.status !== undefined) columns.status = change.status;
  if (change.failedIndex !== undefined) columns.failed_index = change.failedIndex;
  const changed = await knex('job_chains')
    .where({ id: chain.id, revision: chain.revision })
    .update(columns);
  return changed === 1;
}
