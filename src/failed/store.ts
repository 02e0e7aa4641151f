import type { Knex } from 'knex';
import { readTags } from '../jobs/tags.js';
import { readHeaders, type JobHeaders } from '../queue/headers.js';

/** A row of `failed_jobs`, as listings and retries see it. */
export interface FailedJob {
  id: number;
  uuid: string;
  connection: string;
  queue: string;
  name: string;
  payload: string;
  exception: string;
  reason: string;
  attempts: number;
  priority: number;
  originalId: string | null;
  /**
   * The unique key the job held, and its window in ms (null for a job stored before migration
   * 0005, whose window was not kept); null when it had no key or failed before 0005.
   */
  unique: { key: string; forMs: number | null } | null;
  /** The job's tags; [] for none, or for a job that failed before migration 0019. */
  tags: string[];
  /** The job's headers; undefined for none, or for a job that failed before migration 0026. */
  headers?: JobHeaders;
  /** ISO 8601. */
  failedAt: string;
}

export interface FailedFilter {
  ids?: number[];
  queue?: string;
  name?: string;
  /** Only failures at or after this moment. */
  since?: Date;
  /** Inclusive id range, from `--range 1-5`. */
  range?: [number, number];
}

/** The most rows one `searchPage` reads. */
export const SEARCH_WINDOW = 2_000;

/**
 * The failed-job store: SQL for every driver, so `queue:failed` and `queue:retry` read the same
 * whatever the queue backend. Listings page by id and never load the whole table.
 */
export class DatabaseFailedJobStore {
  constructor(private readonly knex: Knex) {}

  private where(filter: FailedFilter) {
    const q = this.knex('failed_jobs');
    if (filter.ids) q.whereIn('id', filter.ids);
    if (filter.queue) q.where('queue', filter.queue);
    if (filter.name) q.where('name', filter.name);
    if (filter.since) q.where('failed_at', '>=', filter.since.getTime());
    if (filter.range) q.whereBetween('id', filter.range);
    return q;
  }

  /** One page, oldest first, of rows with id > afterId. */
  async page(filter: FailedFilter, afterId: number, limit: number): Promise<FailedJob[]> {
    const rows = await this.where(filter).where('id', '>', afterId).orderBy('id').limit(limit);
    return rows.map(toFailed);
  }

  /**
   * As `page`, among rows whose exception or payload contains `text` (any case). Text is not
   * indexed: a call reads at most `window` rows after `afterId` (in id order) and says where it
   * stopped, so a caller goes on from `next` (null once the table is read to its end).
   */
  async searchPage(
    filter: FailedFilter,
    text: string,
    afterId: number,
    limit: number,
    window = SEARCH_WINDOW,
  ): Promise<{ rows: FailedJob[]; next: number | null }> {
    const end = await this.where(filter)
      .where('id', '>', afterId)
      .orderBy('id')
      .offset(window - 1)
      .first('id');
    const like = `%${text.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    const q = this.where(filter)
      .where('id', '>', afterId)
      .where((w) =>
        w
          .whereRaw(`lower(exception) like ? escape '\\'`, [like])
          .orWhereRaw(`lower(payload) like ? escape '\\'`, [like]),
      )
      .orderBy('id')
      .limit(limit + 1);
    if (end) q.where('id', '<=', Number(end.id));
    const rows = (await q).map(toFailed);
    if (rows.length > limit) return { rows: rows.slice(0, limit), next: rows[limit - 1]!.id };
    return { rows, next: end ? Number(end.id) : null };
  }

  /** Every matching row, page by page. */
  async *each(filter: FailedFilter, pageSize = 500): AsyncGenerator<FailedJob> {
    let after = 0;
    for (;;) {
      const page = await this.page(filter, after, pageSize);
      if (page.length === 0) return;
      yield* page;
      after = page[page.length - 1]!.id;
    }
  }

  async count(filter: FailedFilter = {}): Promise<number> {
    const [row] = await this.where(filter).count({ n: '*' });
    return Number(row?.n ?? 0);
  }

  async find(idOrUuid: string): Promise<FailedJob | undefined> {
    const q = this.knex('failed_jobs');
    const row = /^\d+$/.test(idOrUuid)
      ? await q.where('id', Number(idOrUuid)).first()
      : await q.where('uuid', idOrUuid).first();
    return row ? toFailed(row) : undefined;
  }

  /**
   * The record of the job that had this id on this connection and failed at or after
   * `sinceMs` (epoch ms; ids of another connection, or reused, are not its).
   */
  async findByOriginalId(
    connection: string,
    originalId: string,
    sinceMs: number,
  ): Promise<FailedJob | undefined> {
    const row = await this.knex('failed_jobs')
      .where({ connection, original_id: originalId })
      .where('failed_at', '>=', sinceMs)
      .orderBy('id', 'desc')
      .first();
    return row ? toFailed(row) : undefined;
  }

  async forget(ids: number[]): Promise<number> {
    if (ids.length === 0) return 0;
    return this.knex('failed_jobs').whereIn('id', ids).delete();
  }

  /** Deletes every failed job, or those older than `hours`. */
  async flush(hours?: number): Promise<number> {
    const q = this.knex('failed_jobs');
    // Whole milliseconds: failed_at is a bigint, and `hours` may be fractional.
    if (hours !== undefined) q.where('failed_at', '<', Math.round(Date.now() - hours * 3_600_000));
    return q.delete();
  }
}

function toFailed(r: Record<string, unknown>): FailedJob {
  return {
    id: Number(r.id),
    uuid: r.uuid as string,
    connection: r.connection as string,
    queue: r.queue as string,
    name: r.name as string,
    payload: r.payload as string,
    exception: r.exception as string,
    reason: r.reason as string,
    attempts: Number(r.attempts),
    priority: Number(r.priority),
    originalId: (r.original_id as string | null) ?? null,
    unique:
      r.unique_key == null
        ? null
        : {
            key: String(r.unique_key),
            forMs: r.unique_for_ms == null ? null : Number(r.unique_for_ms),
          },
    tags: readTags(r.tags),
    headers: readHeaders(r.headers),
    failedAt: new Date(Number(r.failed_at)).toISOString(),
  };
}
