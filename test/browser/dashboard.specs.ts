/**
 * The dashboard's pages in headless Chromium against a real app: what a user sees and clicks.
 * Each backend's file calls these with its storage; every case uses queues of its own.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/wait.js';
import type { AppBackend, TestApp } from '../helpers/app.js';
import {
  launchBrowser,
  startDashboard,
  type Browser,
  type DashboardServer,
} from '../helpers/browser.js';
import { apiGet, postFromPage, seededApp, SEEDED, waitForText } from './dashboard.fixture.js';

interface QueueRow {
  queue: string;
  pending: number;
  failed: number;
  paused: boolean;
}

const WRITE_BUTTONS = /^(retry|retry all|retry all matching|forget|pause|resume|cancel|run now)/i;

/**
 * Registers the dashboard cases for `backend`. `storageViewsOnly`: only the cases whose page
 * shows or changes what the storage holds (the PostgreSQL file). `readOnly`: also the base-path
 * and read-only cases, which need a second dashboard (the SQLite file).
 */
export function dashboardSpecs(
  backend: AppBackend,
  options: { readOnly?: boolean; storageViewsOnly?: boolean } = {},
): void {
  let app: TestApp;
  let browser: Browser;
  let server: DashboardServer;
  let readOnly: DashboardServer;

  beforeAll(async () => {
    app = await seededApp(backend);
    browser = await launchBrowser();
    server = await startDashboard(app.cwd, app.env);
    if (options.readOnly) readOnly = await startDashboard(app.cwd, app.env, { readOnly: true });
  }, 120_000);

  afterAll(async () => {
    await readOnly?.close();
    await server?.close();
    await browser?.close();
    await app?.cleanup();
  });

  // A page that logs an error (a failed request, a CSP violation, an exception) fails its test.
  afterEach(async () => {
    await browser.closePages();
    expect(browser.problems.splice(0)).toEqual([]);
  });

  it('opens the overview with the stored numbers and three charts', async () => {
    const page = await browser.page();
    await page.goto(server.url);
    await page.getByTestId('stat-failed').waitFor();
    const stat = (name: string) =>
      page.getByTestId(`stat-${name}`).locator('.stat-value').innerText();
    expect(await stat('failed')).toBe(String(SEEDED.failed));
    expect(await stat('succeeded')).toBe(String(SEEDED.succeeded));
    expect(await stat('processed')).toBe(String(SEEDED.succeeded + SEEDED.failed));
    expect(await page.locator('.chart canvas').count()).toBe(3);
    expect(await page.getByTestId('queue-waiting').locator('td').nth(1).innerText()).toBe('2');
  });

  it('shows the queues with their real sizes', async () => {
    const page = await browser.page();
    await page.goto(`${server.url}#/queues`);
    const row = page.getByTestId('queue-waiting');
    await row.waitFor();
    const cells = await row.locator('td').allInnerTexts();
    expect(cells.slice(0, 5)).toEqual(['waiting', String(SEEDED.waiting), '0', '0', '0']);
    expect(await page.getByTestId('queue-retry').locator('td').nth(4).innerText()).toBe('3');
  });

  it('lists jobs by state, live ones from the queue and finished ones from the history', async () => {
    const page = await browser.page();
    const table = page.getByRole('table', { name: 'Jobs' });
    await page.goto(`${server.url}#/jobs?queue=waiting&state=pending`);
    await table
      .locator('tbody tr')
      .nth(SEEDED.waiting - 1)
      .waitFor();
    expect(await table.locator('tbody tr').count()).toBe(SEEDED.waiting);

    await page.goto(`${server.url}#/jobs?queue=ok&state=finished`);
    await table.getByText('succeeded').first().waitFor();
    expect(await table.locator('tbody tr').count()).toBe(SEEDED.succeeded);
  });

  it("opens a failed job's detail from the list: payload, error and timeline", async () => {
    const page = await browser.page();
    await page.goto(`${server.url}#/failed?queue=retry`);
    const row = page.locator('[data-testid^="failed-"]').first();
    await row.waitFor();
    await row.locator('td').first().getByRole('link').click();

    const error = page.getByRole('region', { name: 'Error' });
    await error.waitFor();
    expect(page.url()).toMatch(/#\/jobs\/[^/]+$/);
    expect(await error.innerText()).toMatch(/boom \d/);
    expect(await page.getByRole('region', { name: 'Payload' }).innerText()).toMatch(/"n": \d/);
    expect(await page.getByRole('list', { name: 'Timeline' }).innerText()).toContain('dispatched');
  });

  it('pauses a queue with a click and resumes it', async () => {
    const page = await browser.page();
    await page.goto(`${server.url}#/queues`);
    const row = page.getByTestId('queue-waiting');
    await row.waitFor();

    await page.getByRole('button', { name: 'Pause queue waiting' }).click();
    await row.getByText('paused').waitFor({ timeout: 10_000 });
    let queues = await apiGet<QueueRow[]>(server.url, 'queues');
    expect(queues.find((q) => q.queue === 'waiting')?.paused).toBe(true);

    await page.getByRole('button', { name: 'Resume queue waiting' }).click();
    await row.getByText('running').waitFor({ timeout: 10_000 });
    queues = await apiGet<QueueRow[]>(server.url, 'queues');
    expect(queues.find((q) => q.queue === 'waiting')?.paused).toBe(false);
  });

  // The cases above show what the storage holds, or change it, so each backend's file runs
  // them. Those below test the page itself (navigation, polling, clicks that call the API,
  // CSRF): the page is the same whatever the storage, and the API under them is tested on
  // every backend in test/http/api-*.test.ts, so they run once, in the SQLite file.
  if (options.storageViewsOnly) return;

  it('shows the workers and schedule pages, empty here, without an error', async () => {
    const page = await browser.page();
    await page.goto(`${server.url}#/workers`);
    await page.getByText('No worker is registered.').waitFor();
    await page.goto(`${server.url}#/schedule`);
    await page.getByText('No entry is scheduled.').waitFor();
  });

  it('refreshes what it shows without reloading the page', async () => {
    const page = await browser.page();
    await page.goto(`${server.url}#/queues`);
    await page.getByTestId('queue-waiting').waitFor();
    await page.evaluate(() => Object.assign(globalThis, { notReloaded: true }));

    const input = JSON.stringify({ n: 1 });
    const dispatched = await app.run(['queue:dispatch', 'ok.job', '--queue', 'later'], { input });
    expect(dispatched.code, dispatched.stderr).toBe(0);

    // The page asks again every 5 s.
    await page.getByTestId('queue-later').waitFor({ timeout: 15_000 });
    expect(await page.evaluate(() => 'notReloaded' in globalThis)).toBe(true);
  });

  it('retries a failed job with a click, and it leaves the list', async () => {
    const page = await browser.page();
    await page.goto(`${server.url}#/failed?queue=retry`);
    const rows = page.locator('[data-testid^="failed-"]');
    await rows.nth(2).waitFor();
    expect(await rows.count()).toBe(3);
    const id = (await rows.first().getAttribute('data-testid'))!.replace('failed-', '');

    await page.getByRole('button', { name: `Retry failed job ${id}` }).click();

    await page.getByTestId(`failed-${id}`).waitFor({ state: 'detached', timeout: 10_000 });
    expect(await rows.count()).toBe(2);
    await expectQueueCounts(server.url, 'retry', { pending: 1, failed: 2 });
  });

  it('retries every failed job of a queue after asking once more', async () => {
    const page = await browser.page();
    await page.goto(`${server.url}#/failed?queue=bulk`);
    await page.locator('[data-testid^="failed-"]').nth(1).waitFor();

    await page.getByTestId('retry-all').click();
    await page.getByRole('group', { name: 'Retry every failed job of queue bulk?' }).waitFor();
    await page.getByRole('button', { name: 'Yes' }).click();

    await waitForText(page, '[role=status]', 'Retried 2.');
    await waitForText(page, 'main', 'No failed job matches.');
    await expectQueueCounts(server.url, 'bulk', { pending: 2, failed: 0 });
  });

  it('refuses a POST from the page without the CSRF token (403 csrf)', async () => {
    const page = await browser.page();
    await page.goto(`${server.url}#/queues`);
    await page.getByTestId('queue-waiting').waitFor();
    const answer = await postFromPage(page, 'queues/waiting/pause');
    expect(answer).toMatchObject({ status: 403, body: { error: { code: 'csrf' } } });
    expect(
      (await apiGet<QueueRow[]>(server.url, 'queues')).find((q) => q.queue === 'waiting')?.paused,
    ).toBe(false);
    // Chromium logs the refused request itself; that one is expected.
    expect(browser.problems.splice(0)).toEqual([
      expect.stringContaining('the server responded with a status of 403'),
    ]);
  });

  if (!options.readOnly) return;

  it('works under a base path, its address without the slash redirected', async () => {
    const mounted = await startDashboard(app.cwd, app.env, { basePath: '/jobs' });
    try {
      const page = await browser.page();
      await page.goto(`${mounted.url.replace(/\/$/, '')}#/queues`);
      await page.getByTestId('queue-waiting').waitFor();
      expect(page.url()).toBe(`${mounted.url}#/queues`);
    } finally {
      await mounted.close();
    }
  });

  describe('read-only', () => {
    it('shows no write button on any page', async () => {
      const page = await browser.page();
      await page.goto(`${readOnly.url}#/failed?queue=retry`);
      await page.locator('[data-testid^="failed-"]').first().waitFor();
      await page.getByTestId('read-only').waitFor();
      expect(await page.getByRole('button', { name: WRITE_BUTTONS }).count()).toBe(0);

      await page.goto(`${readOnly.url}#/queues`);
      await page.getByTestId('queue-retry').waitFor();
      expect(await page.getByRole('button', { name: WRITE_BUTTONS }).count()).toBe(0);
      // The same page writable has them: the count above would see them.
      await page.goto(`${server.url}#/queues`);
      await page.getByTestId('queue-retry').waitFor();
      expect(await page.getByRole('button', { name: WRITE_BUTTONS }).count()).toBeGreaterThan(0);
    });

    it('refuses a forged POST carrying the CSRF token (403 read_only), and changes nothing', async () => {
      const page = await browser.page();
      await page.goto(`${readOnly.url}#/queues`);
      await page.getByTestId('queue-waiting').waitFor();
      const session = await apiGet<{ csrfToken: string }>(readOnly.url, 'session');
      const answer = await postFromPage(page, 'queues/waiting/pause', {
        'X-CSRF-Token': session.csrfToken,
      });
      expect(answer).toMatchObject({ status: 403, body: { error: { code: 'read_only' } } });
      const direct = await fetch(`${readOnly.url}api/queues/waiting/pause`, { method: 'POST' });
      expect(direct.status).toBe(403);
      expect(
        (await apiGet<QueueRow[]>(server.url, 'queues')).find((q) => q.queue === 'waiting')?.paused,
      ).toBe(false);
      expect(browser.problems.splice(0)).toEqual([
        expect.stringContaining('the server responded with a status of 403'),
      ]);
    });
  });
}

/**
 * Waits until GET /api/queues shows `counts` for `queue`: the counts come from the reader
 * thread's snapshot, which reads again just after a write, not within the write's request.
 */
async function expectQueueCounts(
  url: string,
  queue: string,
  counts: Partial<Record<'pending' | 'delayed' | 'reserved' | 'failed', number>>,
): Promise<void> {
  await waitFor(
    async () => {
      const queues = await apiGet<QueueRow[]>(url, 'queues');
      expect(queues.find((q) => q.queue === queue)).toMatchObject(counts);
      return true;
    },
    {
      timeoutMs: 10_000,
      message: `the counts of queue ${queue} did not become ${JSON.stringify(counts)}`,
    },
  );
}
