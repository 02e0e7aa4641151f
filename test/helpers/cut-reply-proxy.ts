import { once } from 'node:events';
import net from 'node:net';

/**
 * A TCP proxy on 127.0.0.1 in front of a real server (the shared Redis), that can lose one reply:
 * once `cutReplyTo(marker)` is armed, the first request whose bytes contain `marker` is passed to
 * the server, the server's answer is swallowed, and the client's connection is closed. The
 * server has done the work; the client never hears it (a connection lost at the worst moment).
 */
export interface CutReplyProxy {
  /** The proxy's port on 127.0.0.1. */
  port: number;
  /** Arms the cut for the next request containing `marker`. */
  cutReplyTo(marker: string): void;
  /** How many replies were cut so far. */
  readonly cuts: number;
  close(): Promise<void>;
}

export async function cutReplyProxy(target: {
  host: string;
  port: number;
}): Promise<CutReplyProxy> {
  let armed: string | undefined;
  let cuts = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.host);
    sockets.add(client).add(upstream);
    let cutting = false;
    client.on('data', (chunk) => {
      if (armed !== undefined && chunk.includes(armed)) {
        armed = undefined;
        cutting = true;
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk) => {
      if (!cutting) {
        client.write(chunk);
        return;
      }
      // The server answered the marked request: it ran. Drop the answer and the client.
      cuts++;
      client.destroy();
      upstream.destroy();
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as net.AddressInfo).port,
    cutReplyTo(marker: string) {
      armed = marker;
    },
    get cuts() {
      return cuts;
    },
    async close() {
      for (const s of sockets) s.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}
