/**
 * The built-in `webhook.post` job through a real worker against the local webhook receiver: a
 * 2xx is done, 5xx and 429 are retried (429 after its Retry-After), any other 4xx fails at
 * once, and no message shows the URL's path (a Slack webhook's secret).
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { createApp, describeBackend, type TestApp } from './helpers/app.js';
import type { CliProcess } from './helpers/cli.js';
import { startWebhookDouble, type WebhookDouble } from './doubles/webhook/index.js';
import { sparePort } from './helpers/spare-port.js';
import { waitFor } from './helpers/wait.js';

const SECRET = '/services/T000/B000/s3cr3tPath';
const SLOW = 60_000;

describeBackend('sqlite', 'webhook.post', () => {
  let app: TestApp;
  let hook: WebhookDouble;
  let worker: CliProcess | undefined;
  // Quick retries: the classes of answers do not depend on the backoff.
  const env = { QUEUE_DEFAULT_BACKOFF: '1' };
  beforeEach(async () => {
    hook = await startWebhookDouble();
    app = await createApp(
      'sqlite',
      `import { defineConfig } from 'jobsmith';\nexport default defineConfig({ alerts: [] });\n`,
    );
  });
  afterEach(async () => {
    await worker?.stop();
    worker = undefined;
    await app.cleanup();
    await hook.close();
  });

  async function post(url: string, tries?: number): Promise<string> {
    const args = ['queue:dispatch', 'webhook.post', '--json'];
    if (tries) args.push('--tries', String(tries));
    const payload = JSON.stringify({ url, body: { text: 'Deploy finished' } });
    const result = await app.run([...args, '--payload', payload], { env });
    expect(result.stderr).toBe('');
    return String(JSON.parse(result.stdout).id ?? JSON.parse(result.stdout)[0]);
  }

  const work = () => {
    worker = app.spawn(['queue:work', '--queue', 'default', '--sleep', '100ms'], { env });
    return worker;
  };

  async function settled(): Promise<{ waiting: number; failed: Array<{ exception: string }> }> {
    const sizes = JSON.parse((await app.run(['queue:size', 'default', '--json'], { env })).stdout);
    const failed = JSON.parse((await app.run(['queue:failed', '--json'], { env })).stdout);
    return { waiting: sizes[0].pending + sizes[0].delayed + sizes[0].reserved, failed };
  }

  it(
    'posts the body as JSON; 503 twice, then 200: done on the third attempt',
    async () => {
      hook.reply(SECRET, 503, 503);
      await post(`${hook.url}${SECRET}`);
      work();
      await waitFor(async () => hook.requests.length >= 3 && (await settled()).waiting === 0, {
        timeoutMs: 30_000,
      });
      expect(hook.requests.map((r) => [r.method, r.path, r.body])).toEqual(
        Array.from({ length: 3 }, () => ['POST', SECRET, { text: 'Deploy finished' }]),
      );
      expect(hook.requests[0]!.headers['content-type']).toBe('application/json');
      expect(hook.requests[0]!.headers['user-agent']).toMatch(/^jobsmith\/\d+\.\d+\.\d+/);
      expect((await settled()).failed).toEqual([]);
    },
    SLOW,
  );

  it(
    'a 404 fails the job at once, and the error names the origin, not the path',
    async () => {
      hook.reply(SECRET, { status: 404, body: 'no_service' });
      await post(`${hook.url}${SECRET}`);
      work();
      const { failed } = (await waitFor(
        async () => {
          const s = await settled();
          return s.failed.length === 1 ? s : null;
        },
        { timeoutMs: 30_000 },
      ))!;
      expect(hook.requests).toHaveLength(1);
      expect(failed[0]!.exception).toContain(`webhook ${hook.url}/… answered 404: no_service`);
      expect(JSON.stringify(failed[0]!.exception)).not.toContain('s3cr3t');
    },
    SLOW,
  );

  it(
    'a 429 waits its Retry-After and posts again; a refused connection fails after its tries',
    async () => {
      hook.reply('/slow', { status: 429, headers: { 'retry-after': '1' } });
      await post(`${hook.url}/slow`);
      const closed = await sparePort();
      await post(`http://127.0.0.1:${closed}/refused`, 2);
      work();
      const { failed } = (await waitFor(
        async () => {
          const s = await settled();
          return s.waiting === 0 && s.failed.length === 1 ? s : null;
        },
        { timeoutMs: 30_000 },
      ))!;
      const slow = hook.requests.filter((r) => r.path === '/slow');
      expect(slow).toHaveLength(2);
      expect(slow[1]!.receivedAt - slow[0]!.receivedAt).toBeGreaterThanOrEqual(900);
      expect(failed[0]!.exception).toContain(`webhook http://127.0.0.1:${closed}/…: ECONNREFUSED`);
    },
    SLOW,
  );
});
