import { once } from 'node:events';
import net from 'node:net';

/**
 * A TCP proxy on 127.0.0.1 in front of the real PostgreSQL server that holds back the answer to
 * a new connection's startup (authentication, parameters, BackendKeyData, ReadyForQuery) until
 * the backend has ended, then delivers all it got in one write. With the backend terminated
 * meanwhile (pg_terminate_backend), the client reads its ReadyForQuery and the server's
 * "terminating connection due to administrator command" in the same socket read: the moment a
 * server shutdown can hit a connection that has just come up.
 */
export interface HeldStartupProxy {
  /** The proxy's port on 127.0.0.1. */
  port: number;
  /** Resolves with the backend pid of the first connection once its startup answer is held. */
  held: Promise<number>;
  close(): Promise<void>;
}

/** Server message types (PostgreSQL protocol, "Message Formats"). */
const READY_FOR_QUERY = 0x5a; // 'Z'
const BACKEND_KEY_DATA = 0x4b; // 'K'

export async function heldStartupProxy(target: {
  host: string;
  port: number;
}): Promise<HeldStartupProxy> {
  const sockets = new Set<net.Socket>();
  let first = true;
  let onHeld!: (pid: number) => void;
  const held = new Promise<number>((resolve) => (onHeld = resolve));
  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.host);
    sockets.add(client).add(upstream);
    const holding = first;
    first = false;
    let buffered = Buffer.alloc(0);
    let pid: number | undefined;
    client.on('data', (chunk) => upstream.write(chunk));
    upstream.on('data', (chunk) => {
      if (!holding) {
        client.write(chunk);
        return;
      }
      buffered = Buffer.concat([buffered, chunk]);
      // Walk the whole messages so far: the pid from BackendKeyData, then ReadyForQuery.
      for (let at = 0; at + 5 <= buffered.length;) {
        const type = buffered[at]!;
        const length = buffered.readInt32BE(at + 1);
        if (at + 1 + length > buffered.length) break;
        if (type === BACKEND_KEY_DATA) pid = buffered.readInt32BE(at + 5);
        if (type === READY_FOR_QUERY && pid !== undefined) onHeld(pid);
        at += 1 + length;
      }
    });
    upstream.on('end', () => {
      // Everything the backend said, in one write, and the connection closed after it.
      if (holding) client.end(buffered);
      else client.end();
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('close', end).on('error', end);
    // Not on the upstream's 'close' (unlike cut-reply-proxy.ts): that comes right after its
    // 'end', and destroying the client then could drop the held answer before it is written.
    upstream.on('error', end);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    held,
    async close() {
      for (const s of sockets) s.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}
