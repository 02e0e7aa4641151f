/**
 * The dashboard API's reads (issue 17, /work API contract "Reads"), in process through Hono's
 * `app.request` on a real, migrated storage of each backend: shapes, keyset pages across pages
 * (no duplicate, no gap), filters, 400 naming a bad parameter, 404 for unknown ids, secrets
 * masked. Run by a .sqlite, a .pg and a .redis file. Rows are stored through the stores' own
 * functions, so each test knows exactly what is there.
 */
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Hono } from 'hono';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { App } from '../../src/cli/app.js';
import { failedJobRow } from '../../src/failed/record.js';
import { insertHistory, type HistoryRow } from '../../src/history/store.js';
import { createDashboardApp } from '../../src/http/handler.js';
import { emptyDelta } from '../../src/metrics/delta.js';
import { addMetrics } from '../../src/metrics/store.js';
import type { NewJob, QueueDriver } from '../../src/queue/driver.js';
import { insertWorker } from '../../src/workers/store.js';
import { describeBackend, type AppBackend, type TestApp } from '../helpers/app.js';
import { inProcessSnapshot, openSite, type TestSite } from './site.js';

const CONFIG = `
import { defineConfig, defineJob } from 'jobsmith';

export const mail = defineJob({
  name: 'mail.send',
  breaker: { name: 'smtp', failures: 3, window: '1m', cooldown: '5m' },
  async handle() {},
});
export const report = defineJob({ name: 'report.build', async handle() {} });
export default defineConfig({
  jobs: [mail, report],
  rateLimits: { 'smtp.minute': { limit: 10, per: '1m' } },
  schedule: [{ name: 'nightly', cron: '0 3 * * *', job: report, payload: {} }],
});
`;

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const SECRET = 'hunter2-very-secret';

/** A page of a list endpoint: its rows under one key (`jobs`, `requests`...) and `next`. */
type Page = { next: string | null } & Record<string, unknown>;

export function apiReadSpecs(backend: AppBackend): void {
  describeBackend(backend, 'dashboard API reads', () => {
    let opened: TestSite;
    let test: TestApp;
    let app: App;
    let site: Hono;
    let driver: QueueDriver;

    const get = async (url: string) => {
      const response = await site.request(`/api${url}`);
      return { status: response.status, body: (await response.json()) as Record<string, never> };
    };
    const ok = async <T = Record<string, unknown>>(url: string): Promise<T> => {
      const { status, body } = await get(url);
      expect(status, JSON.stringify(body)).toBe(200);
      return body as T;
    };
    /** Every page of a list endpoint, `limit` rows at a time; the rows' ids in order. */
    const allPages = async (url: string, key: string, limit: number) => {
      const ids: unknown[] = [];
      let next: string | null = null;
      for (let pages = 0; pages < 50; pages++) {
        const sep = url.includes('?') ? '&' : '?';
        const after: string = next === null ? '' : `&after=${next}`;
        const page = await ok<Page>(`${url}${sep}limit=${limit}${after}`);
        const rows = page[key] as Array<{ id: unknown }>;
        expect(rows.length).toBeLessThanOrEqual(limit);
        ids.push(...rows.map((r) => r.id));
        if (page.next === null) return ids;
        expect(page.next).toMatch(/^[A-Za-z0-9_-]+$/);
        next = page.next;
      }
      throw new Error(`${url}: no last page after 50`);
    };
    const expectBadParam = async (url: string, name: string) => {
      const { status, body } = await get(url);
      expect(status, url).toBe(400);
      expect(body).toEqual({
        error: { code: 'bad_request', message: expect.stringMatching(new RegExp(`^${name}\\b`)) },
      });
    };
    const push = (job: Partial<NewJob> & { queue: string }) =>
      driver
        .push([{ name: 'mail.send', payload: '{}', priority: 0, maxTries: 3, delayMs: 0, ...job }])
        .then(([r]) => r!.id);
    const knex = async () => (await app.db()).knex;

    beforeAll(async () => {
      opened = await openSite(backend, CONFIG);
      ({ test, app, site, driver } = opened);
    }, 60_000);
    afterAll(async () => opened?.close());

    it('GET /session says which integrations the app uses', async () => {
      expect(await ok('/session')).toMatchObject({
        readOnly: false,
        version: expect.any(String),
        csrfToken: expect.any(String),
        features: { telegram: false, gpt: false },
      });
    });

    it('GET /jobs pages a queue by keyset: every job once, in order, with filters', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 7; i++) {
        ids.push(
          await push({
            queue: 'pages',
            tags: i % 2 === 0 ? ['even'] : [],
            name: i === 3 ? 'report.build' : 'mail.send',
            delayMs: i === 6 ? 3_600_000 : 0,
          }),
        );
      }
      const first = await ok<{ jobs: Array<Record<string, unknown>>; next: string }>(
        '/jobs?queue=pages&limit=3',
      );
      expect(first.jobs).toHaveLength(3);
      expect(first.jobs[0]).toEqual({
        id: ids[0],
        name: 'mail.send',
        queue: 'pages',
        status: 'queued',
        state: 'pending',
        priority: 0,
        attempts: 0,
        max_tries: 3,
        available_at: expect.stringMatching(ISO),
        created_at: expect.stringMatching(ISO),
        last_error: null,
        payload: '{}',
        tags: ['even'],
        progress: null,
      });
      expect(await allPages('/jobs?queue=pages', 'jobs', 3)).toEqual(ids);
      expect(await allPages('/jobs?queue=pages', 'jobs', 1)).toEqual(ids);
      expect(await allPages('/jobs?queue=pages&state=delayed', 'jobs', 2)).toEqual([ids[6]]);
      expect(await allPages('/jobs?queue=pages&state=pending', 'jobs', 2)).toEqual(ids.slice(0, 6));
      expect(await allPages('/jobs?queue=pages&tag=even', 'jobs', 2)).toEqual([
        ids[0],
        ids[2],
        ids[4],
        ids[6],
      ]);
      expect(await allPages('/jobs?queue=pages&name=report.build', 'jobs', 2)).toEqual([ids[3]]);
      expect(await ok('/jobs?queue=empty')).toEqual({ jobs: [], next: null });
    });

    it('GET /jobs answers 400 naming the parameter for a bad or missing value', async () => {
      await expectBadParam('/jobs', 'queue');
      await expectBadParam('/jobs?queue=a%20b', 'queue');
      await expectBadParam('/jobs?queue=q&state=finished', 'state');
      await expectBadParam('/jobs?queue=q&limit=0', 'limit');
      await expectBadParam('/jobs?queue=q&limit=501', 'limit');
      await expectBadParam('/jobs?queue=q&limit=ten', 'limit');
      await expectBadParam('/jobs?queue=q&after=not*base64', 'after');
      await expectBadParam('/jobs?queue=q&after=bm9wZQ', 'after');
      await expectBadParam(
        `/jobs?queue=q&after=${Buffer.from('"x"').toString('base64url')}`,
        'after',
      );
      await expectBadParam(`/jobs?queue=q&name=${'n'.repeat(201)}`, 'name');
    });

    it('GET /jobs/:id shows a live job and a finished one; 404 for an unknown id', async () => {
      const id = await push({ queue: 'show', lastError: null } as never);
      expect(await ok(`/jobs/${encodeURIComponent(id)}`)).toMatchObject({
        id,
        queue: 'show',
        status: 'queued',
      });
      const finishedId = `fin-${randomUUID()}`;
      await insertHistory(await knex(), [historyRow(finishedId, driver.connection, Date.now())]);
      expect(await ok(`/jobs/${finishedId}`)).toMatchObject({
        source: 'history',
        id: finishedId,
        status: 'failed',
        error: `Error: login failed password=***`,
        finished_at: expect.stringMatching(/Z$/),
        timeline: expect.any(Array),
      });
      const missing = await get('/jobs/999999999');
      expect(missing.status).toBe(404);
      expect(missing.body).toEqual({
        error: { code: 'not_found', message: expect.stringContaining('999999999') },
      });
    });

    it('GET /failed pages failed jobs oldest first, filters them, and masks secrets', async () => {
      const k = await knex();
      const inserted: number[] = [];
      for (let i = 0; i < 5; i++) {
        const [row] = await k('failed_jobs')
          .insert(
            failedJobRow(
              {
                uuid: randomUUID(),
                connection: driver.connection,
                queue: i < 3 ? 'fq' : 'other',
                name: i === 1 ? 'report.build' : 'mail.send',
                payload: `{"n":${i}}`,
                exception: `Error: login failed password=${SECRET} #${i}\n    at send (mail.ts:1:1)`,
                reason: 'error',
                attempts: 3,
                priority: 0,
                originalId: String(1000 + i),
              },
              Date.now() - (5 - i) * 1000,
            ),
          )
          .returning('id');
        inserted.push(Number(typeof row === 'object' ? row.id : row));
      }
      const all = await allPages('/failed', 'jobs', 2);
      expect(all).toEqual(inserted);
      const page = await ok<{ jobs: Array<Record<string, unknown>> }>('/failed?limit=1');
      expect(page.jobs[0]).toEqual({
        id: inserted[0],
        uuid: expect.any(String),
        connection: driver.connection,
        queue: 'fq',
        name: 'mail.send',
        attempts: 3,
        priority: 0,
        reason: 'error',
        exception: 'Error: login failed password=*** #0\n    at send (mail.ts:1:1)',
        payload: '{"n":0}',
        original_id: '1000',
        failed_at: expect.stringMatching(ISO),
      });
      expect(JSON.stringify(await ok('/failed?limit=500'))).not.toContain(SECRET);
      expect(await allPages('/failed?queue=fq', 'jobs', 2)).toEqual(inserted.slice(0, 3));
      expect(await allPages('/failed?queue=fq&name=mail.send', 'jobs', 1)).toEqual([
        inserted[0],
        inserted[2],
      ]);
      expect(await allPages('/failed?search=%233', 'jobs', 2)).toEqual([inserted[3]]);
      expect(await allPages('/failed?search=LOGIN', 'jobs', 2)).toEqual(inserted);
      expect(await allPages('/failed?since=3500ms', 'jobs', 2)).toEqual(inserted.slice(2));

      const one = await ok<Record<string, unknown>>(`/failed/${inserted[4]}`);
      expect(one.exception).toBe('Error: login failed password=*** #4\n    at send (mail.ts:1:1)');
      expect((await ok<Record<string, unknown>>(`/failed/${one.uuid as string}`)).id).toBe(
        inserted[4],
      );
      for (const id of ['99999999', randomUUID(), 'nope']) {
        expect((await get(`/failed/${id}`)).status).toBe(404);
      }
      await expectBadParam('/failed?since=yesterday', 'since');
      await expectBadParam('/failed?name=bad%20name', 'name');
      await expectBadParam(`/failed?after=${Buffer.from('-1').toString('base64url')}`, 'after');
    });

    it('GET /history pages finished jobs newest first, with filters, across equal times', async () => {
      const k = await knex();
      const at = Date.now() - 60_000;
      // Three of them finished in the same millisecond: the keyset goes on by id.
      const rows = [0, 1, 2, 3, 4].map((i) => ({
        ...historyRow(`h-${i}`, 'hist', at + (i < 3 ? 0 : i * 1000)),
        queue: 'hq',
        status: (i === 4 ? 'succeeded' : 'failed') as HistoryRow['status'],
        tags: i === 2 ? '["post:1"]' : null,
      }));
      await insertHistory(k, rows);
      const ids = await allPages('/history?queue=hq', 'jobs', 2);
      expect(ids).toEqual(['h-4', 'h-3', 'h-2', 'h-1', 'h-0']);
      expect(await allPages('/history?queue=hq', 'jobs', 1)).toEqual(ids);
      expect(await allPages('/history?queue=hq&status=succeeded', 'jobs', 2)).toEqual(['h-4']);
      expect(await allPages('/history?queue=hq&tag=post:1', 'jobs', 2)).toEqual(['h-2']);
      const [first] = (await ok<{ jobs: Array<Record<string, unknown>> }>('/history?queue=hq'))
        .jobs;
      expect(first).toMatchObject({
        id: 'h-4',
        queue: 'hq',
        finished_at: expect.stringMatching(ISO),
      });
      expect(JSON.stringify(await ok('/history?queue=hq'))).not.toContain(SECRET);
      await expectBadParam('/history?status=lost', 'status');
    });

    it('GET /overview and /stats read the metrics store; /queues, /workers, /schedule, /breakers, /limits', async () => {
      const minute = Math.floor(Date.now() / 60_000) * 60_000 - 60_000;
      await addMetrics(await knex(), [
        {
          ...emptyDelta(minute, 'mq', 'mail.send'),
          processed: 4,
          succeeded: 3,
          failed: 1,
          runtimeCount: 4,
          runtimeSumMs: 40,
          runtimeMaxMs: 20,
          buckets: [0, 4, ...Array(11).fill(0)],
        },
      ]);
      await insertWorker(await knex(), {
        id: randomUUID(),
        name: 'w1',
        host: 'h',
        pid: 1,
        connection: driver.connection,
        queues: ['mq'],
        concurrency: 2,
        processed: 4,
        failed: 1,
        running: 0,
        currentJobs: [],
      });
      const overview = await ok<Record<string, unknown>>('/overview?since=1h');
      expect(overview).toMatchObject({
        // The snapshot's counts: the queue the first tests filled.
        queues: expect.arrayContaining([
          { queue: 'pages', pending: 6, delayed: 1, reserved: 0, failed: 0, paused: false },
        ]),
        failed: expect.any(Number),
        workers: 1,
        totals: { processed: 4, succeeded: 3, failed: 1, retried: 0, cancelled: 0 },
      });
      // Every minute of the hour, quiet ones as zeros: a chart spans the window.
      const series = overview.series as Array<Record<string, unknown>>;
      expect(series.length).toBeGreaterThanOrEqual(60);
      expect(series.length).toBeLessThanOrEqual(62);
      const times = series.map((p) => Date.parse(String(p.minute)));
      expect(times.slice(1).every((t, i) => t - times[i]! === 60_000)).toBe(true);
      // The current minute (the next one, should the clock have crossed into it meanwhile).
      expect([minute + 60_000, minute + 120_000]).toContain(times.at(-1));
      expect(series.filter((p) => p.processed !== 0)).toEqual([
        {
          minute: new Date(minute).toISOString(),
          processed: 4,
          succeeded: 3,
          failed: 1,
          runtimeAvgMs: 10,
          runtimeP95Ms: expect.any(Number),
        },
      ]);
      expect(series[0]).toEqual({
        minute: series[0]!.minute,
        processed: 0,
        succeeded: 0,
        failed: 0,
        runtimeAvgMs: null,
        runtimeP95Ms: null,
      });
      await expectBadParam('/overview?since=30d', 'since');
      // A misspelt filter is refused, not dropped (which would list everything).
      const typo = await get('/failed?queu=mail');
      expect(typo.status).toBe(400);
      expect(typo.body).toMatchObject({
        error: { code: 'bad_request', message: expect.stringContaining('(did you mean queue?)') },
      });
      expect((await get('/workers?x=1')).body).toMatchObject({
        error: { message: expect.stringContaining('this endpoint takes none') },
      });
      const stats = await ok<{ rows: Array<Record<string, unknown>> }>('/stats?by=job');
      expect(stats).toMatchObject({ by: 'job', rows: [{ name: 'mail.send', processed: 4 }] });
      await expectBadParam('/stats?by=minute', 'by');

      expect(await ok('/workers')).toEqual([
        expect.objectContaining({ name: 'w1', queues: ['mq'], stale: false, current_jobs: [] }),
      ]);
      const schedule = await ok<Array<Record<string, unknown>>>('/schedule?next=2');
      expect(schedule).toEqual([
        expect.objectContaining({ name: 'nightly', cron: '0 3 * * *', next: expect.any(Array) }),
      ]);
      expect(schedule[0]!.next).toHaveLength(2);
      await expectBadParam('/schedule?next=101', 'next');
      expect(await ok('/breakers')).toEqual([
        expect.objectContaining({ name: 'smtp', state: 'closed', jobs: ['mail.send'] }),
      ]);
      expect(await ok('/limits')).toEqual([expect.objectContaining({ name: 'smtp.minute' })]);
      await expectBadParam('/limits?top=0', 'top');
    });

    it('GPT and Telegram tables: 404 not_configured unless the app uses them; GPT requests by keyset', async () => {
      for (const url of ['/gpt/requests', '/telegram/scheduled']) {
        const { status, body } = await get(url);
        expect(status).toBe(404);
        expect(body).toMatchObject({ error: { code: 'not_configured' } });
      }
      // The same app with OPENAI_API_KEY set uses GPT.
      writeFileSync(path.join(test.cwd, '.env'), `\nOPENAI_API_KEY=sk-test-${'x'.repeat(20)}\n`, {
        flag: 'a',
      });
      const gptApp = new App(test.cwd);
      try {
        const gptSite = createDashboardApp(
          { app: gptApp, readOnly: false, snapshot: inProcessSnapshot(gptApp) },
          '',
        );
        const k = (await gptApp.db()).knex;
        const now = Date.now();
        for (let i = 0; i < 5; i++) {
          await k('gpt_requests').insert({
            job_id: `gpt-${i}`,
            queue: 'gpt',
            model: 'm',
            status: i === 2 ? 'failed' : 'succeeded',
            attempts: 1,
            prompt: '[]',
            error: i === 2 ? `401 token=${SECRET}` : null,
            created_at: now,
            updated_at: now,
          });
        }
        const read = async (url: string) =>
          (await (await gptSite.request(`/api${url}`)).json()) as {
            requests: Array<Record<string, unknown>>;
            next: string | null;
            features?: unknown;
          };
        expect((await read('/session')).features).toEqual({ telegram: false, gpt: true });
        const seen: unknown[] = [];
        let url = '/gpt/requests?limit=2';
        for (let i = 0; i < 10; i++) {
          const page = await read(url);
          seen.push(...page.requests.map((r) => r.jobId));
          if (page.next === null) break;
          url = `/gpt/requests?limit=2&after=${page.next}`;
        }
        expect(seen).toEqual(['gpt-4', 'gpt-3', 'gpt-2', 'gpt-1', 'gpt-0']);
        const failed = await read('/gpt/requests?status=failed');
        expect(failed.requests.map((r) => [r.jobId, r.error])).toEqual([
          ['gpt-2', '401 token=***'],
        ]);
        const bad = await gptSite.request('/api/gpt/requests?status=lost');
        expect(bad.status).toBe(400);
      } finally {
        await gptApp.close();
      }
    });
  });
}

/** A failed job's history row whose error holds a secret. */
function historyRow(id: string, connection: string, finishedAt: number): HistoryRow {
  return {
    connection,
    id,
    queue: 'hist',
    name: 'mail.send',
    status: 'failed',
    attempts: 1,
    payload: '{}',
    result: null,
    error: `Error: login failed password=${SECRET}`,
    progress: null,
    tags: null,
    dispatched_at: finishedAt - 10,
    started_at: finishedAt - 5,
    finished_at: finishedAt,
    runtime_ms: 5,
    expires_at: finishedAt + 3_600_000,
  };
}
