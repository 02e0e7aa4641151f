/**
 * The dashboard's writes (src/http/routes/failed-write.ts, jobs-write.ts, dispatch.ts) and its
 * guards (src/http/security.ts), in process through createDashboardApp(...).fetch against real
 * migrated storage. Run by a .sqlite, a .pg and a .redis file.
 */
import { randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Hono } from 'hono';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { App } from '../../src/cli/app.js';
import { pausedQueues } from '../../src/queue/control.js';
import { pausedQueueList } from '../../src/queue/paused.js';
import { findFinished } from '../../src/history/find-finished.js';
import { DatabaseFailedJobStore } from '../../src/failed/store.js';
import { createDashboardApp } from '../../src/http/handler.js';
import { DashboardSnapshot } from '../../src/http/snapshot.js';
import type { QueueDriver } from '../../src/queue/driver.js';
import { createApp, describeBackend, type AppBackend, type TestApp } from '../helpers/app.js';

const CONFIG = `
import { defineConfig, defineJob } from 'jobsmith';
import { z } from 'zod';

export const send = defineJob({
  name: 'mail.send',
  queue: 'mail',
  schema: z.object({ to: z.string() }),
  async handle() {},
});
export default defineConfig({ jobs: [send] });
`;

const TOKEN = 'a-dashboard-token-of-32-characters';

type Json = Record<string, unknown>;

interface Answer {
  status: number;
  body: Json;
  headers: Headers;
}

export function apiWriteSpecs(backend: AppBackend): void {
  describeBackend(backend, 'dashboard API writes', () => {
    let test: TestApp;
    let app: App;
    let withToken: App;
    let driver: QueueDriver;
    let site: Hono;
    /** Started by no test here (no request reads it); closed all the same. */
    let snapshot: DashboardSnapshot;

    beforeAll(async () => {
      test = await createApp(backend, CONFIG);
      // The App reads .env under the real environment, as `run` does.
      const env = { ...test.env, LOG_LEVEL: 'silent' };
      writeEnv(test.cwd, env);
      app = new App(test.cwd);
      writeEnv(test.cwd, { ...env, DASHBOARD_TOKEN: TOKEN });
      withToken = new App(test.cwd);
      driver = await app.queues().get();
      snapshot = new DashboardSnapshot({ cwd: test.cwd });
      site = createDashboardApp({ app, readOnly: false, snapshot }, '');
    });
    afterAll(async () => {
      await snapshot?.close();
      await app?.close();
      await withToken?.close();
      await test?.cleanup();
    });

    const call = async (
      method: string,
      url: string,
      options: { body?: unknown; headers?: Record<string, string>; on?: Hono; host?: string } = {},
    ): Promise<Answer> => {
      const response = await (options.on ?? site).fetch(
        new Request(`http://${options.host ?? 'localhost'}${url}`, {
          method,
          headers: { 'content-type': 'application/json', ...options.headers },
          body:
            options.body === undefined
              ? undefined
              : typeof options.body === 'string'
                ? options.body
                : JSON.stringify(options.body),
        }),
      );
      const text = await response.text();
      return { status: response.status, body: JSON.parse(text) as Json, headers: response.headers };
    };
    const post = (url: string, body?: unknown, headers?: Record<string, string>) =>
      call('POST', url, { body, headers });
    const store = async () => new DatabaseFailedJobStore((await app.db()).knex);

    /** Failed jobs of mail.send on `queue`, stored as a worker records them; their ids. */
    const insertFailed = async (queue: string, count: number, hoursAgo = 0): Promise<number[]> => {
      const { knex } = await app.db();
      const rows = Array.from({ length: count }, (_, n) => ({
        uuid: randomUUID(),
        connection: driver.connection,
        queue,
        name: 'mail.send',
        payload: JSON.stringify({ to: `user${n}@example.com` }),
        exception: 'Error: mailbox full\n    at send',
        reason: 'error',
        attempts: 3,
        priority: 0,
        failed_at: Date.now() - hoursAgo * 3_600_000,
      }));
      const ids: number[] = [];
      for (let i = 0; i < rows.length; i += 200) {
        const inserted = await knex('failed_jobs')
          .insert(rows.slice(i, i + 200))
          .returning('id');
        ids.push(...inserted.map((r: { id: unknown }) => Number(r.id)));
      }
      return ids;
    };

    /** Dispatches mail.send on `queue` through the API; its job id. */
    const dispatch = async (queue: string) => {
      const answer = await post(`/api/jobs/mail.send?queue=${queue}`, { to: 'a@example.com' });
      expect(answer.status, JSON.stringify(answer.body)).toBe(201);
      return answer.body.id as string;
    };

    it('retries one failed job: it leaves the failed jobs and is queued on its queue', async () => {
      const [id] = await insertFailed('w-retry-one', 1);
      const answer = await post(`/api/failed/${id}/retry`);
      expect(answer.status).toBe(200);
      expect(answer.body).toEqual({ id, retried: true, jobId: expect.any(String) });
      expect(await (await store()).find(String(id))).toBeUndefined();
      const job = await driver.find(answer.body.jobId as string);
      expect(job).toMatchObject({ name: 'mail.send', queue: 'w-retry-one', state: 'pending' });
      expect(JSON.parse(job!.payload)).toEqual({ to: 'user0@example.com' });
    });

    it('answers 404 for a failed job that does not exist, and 400 for an id that is not one', async () => {
      expect(await post('/api/failed/999999999/retry')).toMatchObject({
        status: 404,
        body: {
          error: { code: 'not_found', message: 'No failed job with id or uuid "999999999".' },
        },
      });
      expect(await post('/api/failed/not-an-id/forget')).toMatchObject({
        status: 400,
        body: {
          error: {
            code: 'bad_request',
            message: 'A failed job is given by its id (a number) or its uuid, got "not-an-id".',
          },
        },
      });
    });

    it('forgets a failed job: its row is gone and it is not queued', async () => {
      const [id] = await insertFailed('w-forget', 1);
      const answer = await post(`/api/failed/${id}/forget`);
      expect(answer).toMatchObject({ status: 200, body: { id, forgotten: true } });
      expect(await (await store()).find(String(id))).toBeUndefined();
      expect(await driver.list('w-forget', undefined, 0, 10)).toEqual([]);
      expect((await post(`/api/failed/${id}/forget`)).status).toBe(404);
    });

    it('retries by filter in pages: more failed jobs than one page, only those matching', async () => {
      // 450 rows: more than two pages of 200 (src/failed/retry.ts), plus rows the filter leaves.
      await insertFailed('w-bulk', 450);
      await insertFailed('w-bulk', 3, 48);
      await insertFailed('w-bulk-other', 2);
      const answer = await post('/api/failed/retry', { queue: 'w-bulk', since: '1h' });
      expect(answer).toMatchObject({ status: 200, body: { retried: 450, skipped: 0 } });
      const failed = await store();
      expect(await failed.count({ queue: 'w-bulk' })).toBe(3);
      expect(await failed.count({ queue: 'w-bulk-other' })).toBe(2);
      expect(await driver.list('w-bulk', undefined, 0, 1000)).toHaveLength(450);
    });

    it('refuses a bad filter with 400 naming it', async () => {
      expect(await post('/api/failed/retry', { since: 'yesterday' })).toMatchObject({
        status: 400,
        body: {
          error: {
            code: 'bad_request',
            message:
              'since must be an ISO 8601 date/time such as 2026-01-31T09:00:00Z, or a duration meaning "within the last" such as 30m, 2h or 1d; got "yesterday".',
          },
        },
      });
      expect((await post('/api/failed/retry', { status: 'x' })).body).toEqual({
        error: {
          code: 'bad_request',
          message: 'status: not a filter of failed jobs; the filters are queue, name, since.',
        },
      });
      expect((await post('/api/failed/retry', '{not json')).status).toBe(400);
    });

    it('cancels a waiting job (deleted) and asks a running one to stop', async () => {
      const waiting = await dispatch('w-cancel');
      expect(await post(`/api/jobs/${waiting}/cancel`)).toMatchObject({
        status: 200,
        body: { id: waiting, outcome: 'cancelled', name: 'mail.send', queue: 'w-cancel' },
      });
      expect(await driver.find(waiting)).toBeNull();
      // Its history names the dashboard as who cancelled it, not the server's own user.
      const finished = await findFinished(waiting, (await app.db()).knex);
      expect(finished).toMatchObject({ status: 'cancelled', error: 'the dashboard' });

      const running = await dispatch('w-cancel-run');
      const [claimed] = await driver.claim(['w-cancel-run'], 1, 3_600_000);
      expect(claimed?.id).toBe(running);
      expect(await post(`/api/jobs/${running}/cancel`)).toMatchObject({
        status: 200,
        body: { id: running, outcome: 'cancel_requested' },
      });
      expect((await post(`/api/jobs/${waiting}/cancel`)).status).toBe(404);
    });

    it('promotes a delayed job to run now, and leaves one that is not delayed', async () => {
      const delayed = (await post('/api/jobs/mail.send?queue=w-promote&delay=1h', { to: 'x' })).body
        .id as string;
      expect((await driver.find(delayed))?.state).toBe('delayed');
      expect(await post(`/api/jobs/${delayed}/promote`)).toMatchObject({
        status: 200,
        body: { promoted: [delayed], skipped: [], missing: [] },
      });
      expect((await driver.find(delayed))?.state).toBe('pending');
      expect((await post(`/api/jobs/${delayed}/promote`)).body).toEqual({
        promoted: [],
        skipped: [{ id: delayed, status: 'queued', state: 'pending' }],
        missing: [],
      });
      expect((await post('/api/jobs/no-such-job/promote')).status).toBe(404);
    });

    it('deletes a waiting job, and refuses a running one with 409', async () => {
      const waiting = await dispatch('w-delete');
      expect(await post(`/api/jobs/${waiting}/delete`)).toMatchObject({
        status: 200,
        body: { deleted: [waiting], running: [], missing: [] },
      });
      expect(await driver.find(waiting)).toBeNull();
      const running = await dispatch('w-delete-run');
      await driver.claim(['w-delete-run'], 1, 3_600_000);
      expect(await post(`/api/jobs/${running}/delete`)).toMatchObject({
        status: 409,
        body: { error: { code: 'running' } },
      });
      expect((await driver.find(running))?.state).toBe('reserved');
      expect((await post(`/api/jobs/${waiting}/delete`)).status).toBe(404);
    });

    it('dispatches a job: 201 with its id, on its own queue', async () => {
      const answer = await post('/api/jobs/mail.send', { to: 'b@example.com' });
      expect(answer).toMatchObject({
        status: 201,
        body: { id: expect.any(String), name: 'mail.send', queue: 'mail', deduplicated: false },
      });
      const job = await driver.find(answer.body.id as string);
      expect(job).toMatchObject({ name: 'mail.send', queue: 'mail', state: 'pending' });
      expect(JSON.parse(job!.payload)).toEqual({ to: 'b@example.com' });
    });

    it('honours delay, queue, priority and tags of the query', async () => {
      const before = Date.now();
      const answer = await post(
        '/api/jobs/mail.send?delay=30m&queue=w-dispatch&priority=7&tag=a&tag=b',
        { to: 'c@example.com' },
      );
      expect(answer.status).toBe(201);
      const job = await driver.find(answer.body.id as string);
      expect(job).toMatchObject({ queue: 'w-dispatch', state: 'delayed', priority: 7 });
      expect(job!.tags).toEqual(['a', 'b']);
      expect(job!.availableAt).toBeGreaterThanOrEqual(before + 30 * 60_000 - 2_000);
      expect(job!.availableAt).toBeLessThanOrEqual(Date.now() + 30 * 60_000 + 2_000);
      const at = new Date(Date.now() + 2 * 3_600_000).toISOString();
      const scheduled = await post(`/api/jobs/mail.send?queue=w-dispatch&at=${at}`, { to: 'd' });
      expect(
        Math.abs((await driver.find(scheduled.body.id as string))!.availableAt - Date.parse(at)),
      ).toBeLessThan(2_000);
    });

    it('refuses a payload that fails the schema with 422 and the schema message', async () => {
      expect(await post('/api/jobs/mail.send', { to: 1 })).toMatchObject({
        status: 422,
        body: {
          error: {
            code: 'invalid_payload',
            message: 'Invalid payload for job mail.send: to: Expected string, received number',
          },
        },
      });
      expect((await post('/api/jobs/mail.send?priority=high', { to: 'x' })).body).toEqual({
        error: {
          code: 'bad_request',
          message: 'priority must be a whole number from -1048575 to 1048575, got "high".',
        },
      });
    });

    it('answers 404 unknown_job for an unknown job, naming the nearest', async () => {
      expect(await post('/api/jobs/mail.sned', { to: 'x' })).toMatchObject({
        status: 404,
        body: {
          error: {
            code: 'unknown_job',
            message:
              'Unknown job "mail.sned". Did you mean "mail.send"? Jobs are registered in jobsmith.config.ts.',
          },
        },
      });
    });

    it('in read-only mode refuses every write with 403', async () => {
      const readOnly = createDashboardApp({ app, readOnly: true, snapshot }, '');
      const [failedId] = await insertFailed('w-read-only', 1);
      const jobId = await dispatch('w-read-only');
      const writes = [
        `/api/failed/${failedId}/retry`,
        `/api/failed/${failedId}/forget`,
        '/api/failed/retry',
        `/api/jobs/${jobId}/cancel`,
        `/api/jobs/${jobId}/promote`,
        `/api/jobs/${jobId}/delete`,
        '/api/jobs/mail.send',
        '/api/queues/w-read-only/pause',
      ];
      for (const url of writes) {
        const answer = await call('POST', url, { body: { to: 'x' }, on: readOnly });
        expect([url, answer.status, (answer.body.error as Json).code]).toEqual([
          url,
          403,
          'read_only',
        ]);
      }
      expect(await (await store()).find(String(failedId))).toBeDefined();
      expect(await driver.find(jobId)).not.toBeNull();
    });

    it('refuses a browser write without the CSRF token or from another host', async () => {
      const session = await call('GET', '/api/session');
      const csrfToken = session.body.csrfToken as string;
      expect(csrfToken).toMatch(/^[A-Za-z0-9_-]{40,}$/);
      const jobId = await dispatch('w-csrf');
      const url = `/api/jobs/${jobId}/promote`;
      const refused = await post(url, undefined, { origin: 'http://localhost' });
      expect(refused).toMatchObject({ status: 403, body: { error: { code: 'csrf' } } });
      expect(
        (await post(url, undefined, { 'sec-fetch-site': 'same-origin', 'x-csrf-token': 'guess' }))
          .status,
      ).toBe(403);
      const otherSite = await post(url, undefined, {
        origin: 'http://evil.example',
        'x-csrf-token': csrfToken,
      });
      expect(otherSite).toMatchObject({ status: 403, body: { error: { code: 'csrf' } } });
      // The page's own write: same host, the token.
      const browser = await post(url, undefined, {
        origin: 'http://localhost',
        'sec-fetch-site': 'same-origin',
        'x-csrf-token': csrfToken,
      });
      expect(browser.status).toBe(200);
      // A script (no Origin, no Sec-Fetch-Site) needs no CSRF token.
      expect((await post(url)).status).toBe(200);
    });

    it('with DASHBOARD_TOKEN answers 401 without it, and accepts it as bearer or basic auth', async () => {
      const guarded = createDashboardApp({ app: withToken, readOnly: false, snapshot }, '');
      const get = (headers: Record<string, string> = {}) =>
        call('GET', '/api/session', { headers, on: guarded });
      const none = await get();
      expect(none.status).toBe(401);
      expect(none.headers.get('www-authenticate')).toBe('Basic realm="jobsmith", charset="UTF-8"');
      expect(none.body).toMatchObject({ error: { code: 'unauthorized' } });
      expect((await get({ authorization: 'Bearer wrong-token-wrong-token' })).status).toBe(401);
      expect((await get({ authorization: `Bearer ${TOKEN}` })).status).toBe(200);
      const basic = Buffer.from(`anyone:${TOKEN}`).toString('base64');
      expect((await get({ authorization: `Basic ${basic}` })).status).toBe(200);
      // Pages too, and writes: nothing is answered without the token.
      const write = await call('POST', '/api/queues/w-token/pause', { on: guarded });
      expect(write.status).toBe(401);
      // A write records the basic-auth user name as who did it, not the server's own user.
      const ann = Buffer.from(`ann:${TOKEN}`).toString('base64');
      const paused = await call('POST', '/api/queues/w-token/pause', {
        headers: { authorization: `Basic ${ann}` },
        on: guarded,
      });
      expect(paused.status).toBe(200);
      const row = (await pausedQueueList((await app.db()).knex)).find((q) => q.queue === 'w-token');
      expect(row?.pausedBy).toBe('the dashboard, user ann');
    });

    it('without DASHBOARD_TOKEN answers only requests addressed to this machine or an allowed host', async () => {
      // A page of evil.example whose name now points at 127.0.0.1 (DNS rebinding) sends its own
      // name as the host: refused, reads and writes alike.
      const read = await call('GET', '/api/session', { host: 'evil.example:8080' });
      expect(read.status).toBe(403);
      expect(read.body).toMatchObject({ error: { code: 'host_not_allowed' } });
      expect((read.body.error as Json).message).toContain('DASHBOARD_TOKEN');
      const write = await call('POST', '/api/queues/w-rebind/pause', { host: 'evil.example' });
      expect(write.status).toBe(403);
      expect(await pausedQueues((await app.db()).knex)).not.toContain('w-rebind');
      for (const host of ['127.0.0.1:8080', 'localhost', '[::1]:8080', '127.1.2.3']) {
        expect((await call('GET', '/api/session', { host })).status, host).toBe(200);
      }
      // An app that mounts it behind its own login names its host; a token opens every host.
      const allowed = createDashboardApp(
        { app, readOnly: false, snapshot, allowedHosts: ['admin.example.com'] },
        '',
      );
      expect(
        (await call('GET', '/api/session', { host: 'admin.example.com', on: allowed })).status,
      ).toBe(200);
      expect(
        (await call('GET', '/api/session', { host: 'evil.example', on: allowed })).status,
      ).toBe(403);
      const guarded = createDashboardApp({ app: withToken, readOnly: false, snapshot }, '');
      const withBearer = await call('GET', '/api/session', {
        host: 'jobs.example.com',
        headers: { authorization: `Bearer ${TOKEN}` },
        on: guarded,
      });
      expect(withBearer.status).toBe(200);
    });

    it('refuses to retry every failed job on an empty body: {} says so', async () => {
      const ids = await insertFailed('w-empty-body', 2);
      const empty = await post('/api/failed/retry');
      expect(empty).toMatchObject({ status: 400, body: { error: { code: 'bad_request' } } });
      expect((empty.body.error as Json).message).toContain('{} to retry every failed job');
      for (const id of ids) expect(await (await store()).find(String(id))).toBeDefined();
    });

    it('refuses a dispatch option it does not know, naming the nearest (a typo must not run now)', async () => {
      const before = await driver.sizes(['mail', 'default']);
      const answer = await post('/api/jobs/mail.send?dealy=10m', { to: 'a@example.com' });
      expect(answer).toMatchObject({ status: 400, body: { error: { code: 'bad_request' } } });
      expect((answer.body.error as Json).message).toContain(
        'Unknown query parameter "dealy" (did you mean delay?)',
      );
      expect(await driver.sizes(['mail', 'default'])).toEqual(before);
    });
  });
}

function writeEnv(cwd: string, env: Record<string, string | undefined>): void {
  const lines = Object.entries(env).filter(([, v]) => v !== undefined);
  writeFileSync(path.join(cwd, '.env'), lines.map(([k, v]) => `${k}=${v}`).join('\n'));
}
