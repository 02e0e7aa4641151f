/**
 * What the API answers above any store, the same on every backend (so run on SQLite): a method
 * a path does not take, and a cursor passed back with other filters.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSite, type TestSite } from './site.js';

const CONFIG = `
import { defineConfig, defineJob } from 'jobsmith';
export const mail = defineJob({ name: 'mail.send', async handle() {} });
export default defineConfig({ jobs: [mail] });
`;

describe('dashboard API protocol', () => {
  let opened: TestSite;
  const get = async (url: string) => {
    const response = await opened.site.request(`/api${url}`);
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  };

  beforeAll(async () => {
    opened = await openSite('sqlite', CONFIG);
  }, 60_000);
  afterAll(async () => opened?.close());

  it('answers 405 with Allow for a known path and a method it does not take; 404 for an unknown path', async () => {
    const wrong = await opened.site.request('/api/jobs/5/cancel');
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('POST');
    expect(await wrong.json()).toEqual({
      error: {
        code: 'method_not_allowed',
        message: '/api/jobs/5/cancel does not take GET; it takes POST.',
      },
    });
    const put = await opened.site.request('/api/overview', { method: 'PUT' });
    expect(put.status).toBe(405);
    expect(put.headers.get('allow')).toBe('GET, HEAD');
    const unknown = await get('/nothing/here');
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ error: { code: 'not_found' } });
  });

  it('refuses a cursor passed back with other filters (400 naming after); a new limit keeps it', async () => {
    const jobs = Array.from({ length: 3 }, () => ({
      name: 'mail.send',
      queue: 'scoped',
      payload: '{}',
      priority: 0,
      maxTries: 3,
      delayMs: 0,
    }));
    await opened.driver.push(jobs);
    const first = await get('/jobs?queue=scoped&state=pending&limit=1');
    expect(first.status).toBe(200);
    const next = first.body.next as string;
    expect(next).toMatch(/^[A-Za-z0-9_-]+$/);
    const other = await get(`/jobs?queue=scoped&state=delayed&limit=1&after=${next}`);
    expect(other).toEqual({
      status: 400,
      body: {
        error: {
          code: 'bad_request',
          message: expect.stringMatching(
            /^after: got ".*"; this cursor belongs to a listing with other filters/,
          ),
        },
      },
    });
    // Paging parameters may change between pages, and the order of the others does not count.
    const resized = await get(`/jobs?limit=2&state=pending&queue=scoped&after=${next}`);
    expect(resized.status).toBe(200);
    expect(resized.body.jobs).toHaveLength(2);
  });
});
