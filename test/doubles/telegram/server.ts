/**
 * The HTTP side: `GET|POST /bot<token>/<method>` (and `/bot<token>/test/<method>`, grammY's
 * test environment) on 127.0.0.1, answered with `{ ok: true, result }` or Telegram's
 * `{ ok: false, error_code, description, parameters? }` and the same HTTP status. Injected
 * faults are served here, before the bot sees the call, and every call is logged.
 */
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readParams } from './body.js';
import type { FakeBot } from './bot.js';
import { ApiError, faultDescription, notFound, tooManyRequests, unauthorized } from './errors.js';

/** One request the fake answered (or dropped). */
export interface ApiCall {
  /** The bot's id, or null when the token matched no bot. */
  bot: number | null;
  method: string;
  params: Record<string, unknown>;
  /** HTTP status sent; 0 when the socket was destroyed or the client went away first. */
  status: number;
  /** The error's description, for failures. */
  description?: string;
  /** The chat the call named, when it named one. */
  chatId?: number;
  /** The fake's clock when the answer was given, ms since the epoch. */
  at: number;
}

/** A fault to serve instead of the next matching calls. */
export interface Fault {
  /** An HTTP status (502, 500, 429...), or 'reset' to destroy the socket without an answer. */
  status: number | 'reset';
  /** Only calls of this method (case-insensitive). @defaultValue every method */
  method?: string;
  /** For status 429: the retry_after to send, in seconds. @defaultValue 1 */
  retryAfter?: number;
  /** How many more calls it applies to. */
  remaining: number;
}

const ROUTE = /^\/bot([^/]+)\/(?:test\/)?([A-Za-z_]+)\/?$/;

export class FakeBotServer {
  readonly calls: ApiCall[] = [];
  private readonly faults: Fault[] = [];
  private readonly server: http.Server;

  constructor(
    private readonly bots: Map<string, FakeBot>,
    private readonly clock: () => number,
  ) {
    this.server = http.createServer((req, res) => {
      void this.handle(req, res);
    });
  }

  async listen(port = 0): Promise<string> {
    this.server.listen(port, '127.0.0.1');
    await once(this.server, 'listening');
    const address = this.server.address() as AddressInfo;
    return `http://127.0.0.1:${address.port}`;
  }

  addFault(fault: Fault): void {
    this.faults.push(fault);
  }

  async close(): Promise<void> {
    for (const bot of this.bots.values()) bot.updates.endHeld();
    const closed = once(this.server, 'close');
    this.server.close();
    // grammY keeps connections alive; without this close() waits for them to idle out.
    this.server.closeAllConnections();
    await closed;
  }

  /** The first fault that applies to `method`, used up by one. */
  private takeFault(method: string): Fault | undefined {
    const index = this.faults.findIndex(
      (fault) => fault.method === undefined || fault.method.toLowerCase() === method.toLowerCase(),
    );
    if (index === -1) return undefined;
    const fault = this.faults[index];
    fault.remaining -= 1;
    if (fault.remaining <= 0) this.faults.splice(index, 1);
    return fault;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const route = ROUTE.exec(url.pathname);
    const bot = route ? this.bots.get(decodeURIComponent(route[1])) : undefined;
    const call: ApiCall = {
      bot: bot?.id ?? null,
      method: route?.[2] ?? url.pathname,
      params: {},
      status: 0,
      at: 0,
    };
    const aborter = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) aborter.abort();
    });
    try {
      if (!route) throw notFound();
      const { params, files } = await readParams(req, url);
      call.params = params;
      if (typeof params.chat_id === 'number') call.chatId = params.chat_id;
      const fault = this.takeFault(call.method);
      if (fault?.status === 'reset') {
        this.log(call);
        req.socket.destroy();
        return;
      }
      if (fault) {
        throw fault.status === 429
          ? tooManyRequests(fault.retryAfter ?? 1)
          : new ApiError(fault.status, faultDescription(fault.status));
      }
      if (!bot) throw unauthorized();
      const { method, result } = await bot.call(call.method, params, files, aborter.signal);
      call.method = method;
      this.reply(res, call, 200, { ok: true, result });
    } catch (error) {
      if (!(error instanceof ApiError)) {
        // A bug in the fake, not a Telegram reply: say so loudly rather than pass as a 500.
        this.reply(res, call, 500, {
          ok: false,
          error_code: 500,
          description: `fake Bot API bug: ${error instanceof Error ? error.stack : String(error)}`,
        });
        return;
      }
      call.description = error.description;
      this.reply(res, call, error.errorCode, error.toJSON());
    }
  }

  private reply(res: http.ServerResponse, call: ApiCall, status: number, body: unknown): void {
    if (res.destroyed || res.writableEnded) {
      this.log(call); // the client left during a long poll: nothing to answer
      return;
    }
    call.status = status;
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(text),
    });
    res.end(text);
    this.log(call);
  }

  private log(call: ApiCall): void {
    call.at = this.clock();
    this.calls.push(call);
  }
}
