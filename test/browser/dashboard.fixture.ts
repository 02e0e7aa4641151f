/**
 * A scratch app for the browser tests, with real history: failed jobs, succeeded jobs and
 * waiting ones, made by `run queue:dispatch` and `run queue:work` as a user makes them.
 */
import { expect } from 'vitest';
import type { Page } from 'playwright-core';
import { createApp, type AppBackend, type TestApp } from '../helpers/app.js';

const CONFIG = `
import { defineConfig, defineJob, Permanent } from 'jobsmith';
import { z } from 'zod';

const payload = z.object({ n: z.number() });

export const ok = defineJob({
  name: 'ok.job',
  schema: payload,
  retain: { succeeded: '1h' },
  async handle(p: { n: number }) { return { doubled: p.n * 2 }; },
});
export const boom = defineJob({
  name: 'boom.job',
  schema: payload,
  async handle(p: { n: number }) { throw new Permanent('boom ' + p.n); },
});

export default defineConfig({ jobs: [ok, boom] });
`;

/**
 * What the seeded app holds: on `retry` and `bulk`, failed boom.job runs (3 and 2); on `ok`,
 * 4 succeeded ok.job runs; on `waiting`, 2 pending ok.jobs.
 */
export const SEEDED = { failed: 5, succeeded: 4, waiting: 2 };

export async function seededApp(backend: AppBackend): Promise<TestApp> {
  const app = await createApp(backend, CONFIG);
  const dispatch = async (name: string, queue: string, ns: number[]) => {
    const input = ns.map((n) => JSON.stringify({ n })).join('\n');
    const result = await app.run(['queue:dispatch', name, '--queue', queue, '--json'], { input });
    expect(result.code, result.stderr).toBe(0);
  };
  await dispatch('boom.job', 'retry', [1, 2, 3]);
  await dispatch('boom.job', 'bulk', [4, 5]);
  await dispatch('ok.job', 'ok', [1, 2, 3, 4]);
  const work = await app.run(['queue:work', '--queue', 'retry,bulk,ok', '--stop-when-empty']);
  expect(work.code, work.stderr).toBe(0);
  await dispatch('ok.job', 'waiting', [5, 6]);
  return app;
}

/** GET `{url}api/{path}` from the test (no Origin: no CSRF check), parsed. */
export async function apiGet<T>(url: string, path: string): Promise<T> {
  const response = await fetch(`${url}api/${path}`);
  expect(response.status, await response.clone().text()).toBe(200);
  return (await response.json()) as T;
}

/** The text of `testId`'s element once it contains `text` (a bounded wait, then a failure). */
export async function waitForText(page: Page, selector: string, text: string, timeout = 10_000) {
  await page.locator(selector).filter({ hasText: text }).first().waitFor({ timeout });
  return page.locator(selector).first().innerText();
}

/** A POST sent by the page's own script, as a forged form or fetch would be: status and body. */
export function postFromPage(page: Page, path: string, headers: Record<string, string> = {}) {
  const url = new URL(`api/${path}`, new URL('./', page.url())).toString();
  return page.evaluate(
    async ([u, h]) => {
      const response = await fetch(u, { method: 'POST', headers: h });
      return { status: response.status, body: (await response.json()) as unknown };
    },
    [url, headers] as const,
  );
}
