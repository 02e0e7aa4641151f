/**
 * A local webhook receiver for tests: an HTTP server on 127.0.0.1 that takes POSTs on any path
 * and keeps each request (path, headers, parsed JSON body), as a Slack incoming webhook would,
 * answering 200 "ok". Answers are programmable per path (`reply('/hook', 503, 503)`: the next
 * two requests get 503, then 200 again), for the retry and permanent-failure cases.
 *
 * ```ts
 * const hook = await startWebhookDouble();
 * // notify: [`webhook:${hook.url}/alerts`]
 * expect(hook.requests.map((r) => r.body)).toEqual([{ text: '...' }]);
 * await hook.close();
 * ```
 */
import http, { type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface WebhookRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  body: unknown;
  raw: string;
  /** Epoch ms. */
  receivedAt: number;
}

/** An answer to give: a status, or a status with a body and headers. */
export type WebhookAnswer =
  number | { status: number; body?: string; headers?: Record<string, string> };

export interface WebhookDouble {
  /** `http://127.0.0.1:<port>` (no trailing slash): add a path. */
  url: string;
  /** Every request taken, in arrival order (answered with an error or not). */
  requests: WebhookRequest[];
  /** The next requests to `path` get these answers, in order; then 200 again. */
  reply(path: string, ...answers: WebhookAnswer[]): void;
  close(): Promise<void>;
}

export async function startWebhookDouble(): Promise<WebhookDouble> {
  const requests: WebhookRequest[] = [];
  const planned = new Map<string, WebhookAnswer[]>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      let body: unknown;
      try {
        body = JSON.parse(raw);
      } catch {
        body = undefined;
      }
      const path = req.url ?? '/';
      requests.push({
        method: req.method ?? '',
        path,
        headers: req.headers,
        body,
        raw,
        receivedAt: Date.now(),
      });
      const answer = planned.get(path)?.shift() ?? 200;
      const {
        status,
        body: text,
        headers,
      } = typeof answer === 'number' ? { status: answer, body: undefined, headers: {} } : answer;
      res.writeHead(status, { 'content-type': 'text/plain', ...headers });
      res.end(text ?? (status < 300 ? 'ok' : `error ${status}`));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    reply(path, ...answers) {
      planned.set(path, [...(planned.get(path) ?? []), ...answers]);
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
