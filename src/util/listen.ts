import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A server listening on its port: the port it got, its base URL, and a close that ends it. */
export interface Listening {
  port: number;
  /** `http://host:port` (an IPv6 host in brackets), no trailing slash. */
  origin: string;
  /** Stops accepting, drops open connections, and resolves once the server has closed. */
  close(): Promise<void>;
}

/**
 * Starts `server` on `port` of `host` and waits until it listens. An IPv6 host may be given as in
 * a URL, in brackets (`[::1]`): they are taken off, as node:net wants the bare address. When it cannot (a port taken,
 * privileged, an address not of this machine), the server is closed and `explain(error)` is
 * thrown: each caller names its own port setting in the message.
 */
export async function listenOn(
  server: Server,
  host: string,
  port: number,
  explain: (error: NodeJS.ErrnoException) => Error,
): Promise<Listening> {
  const address = host.replace(/^\[(.*)\]$/, '$1');
  server.listen(port, address);
  try {
    await Promise.race([
      once(server, 'listening'),
      once(server, 'error').then(([error]) => Promise.reject(error)),
    ]);
  } catch (error) {
    server.close();
    throw explain(error as NodeJS.ErrnoException);
  }
  const bound = (server.address() as AddressInfo).port;
  const shown = address.includes(':') ? `[${address}]` : address;
  return {
    port: bound,
    origin: `http://${shown}:${bound}`,
    async close() {
      const closed = once(server, 'close');
      server.close();
      server.closeAllConnections();
      await closed;
    },
  };
}
