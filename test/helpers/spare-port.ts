import { once } from 'node:events';
import net from 'node:net';

/**
 * A port nobody listens on right now on 127.0.0.1 (the kernel's pick): for a server of a test's
 * own (a PostgreSQL cluster, a redis-server), or an address that must refuse connections.
 */
export async function sparePort(): Promise<number> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}
