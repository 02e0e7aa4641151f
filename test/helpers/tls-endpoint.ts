/**
 * A TLS endpoint on 127.0.0.1 that speaks the start of PostgreSQL's protocol: it answers the
 * client's SSLRequest with 'S', completes the TLS handshake with the certificate it was given,
 * then refuses the StartupMessage with a FATAL error whose message is `HANDSHAKE_DONE`.
 *
 * So a client that connects and fails with `HANDSHAKE_DONE` accepted the server's certificate;
 * one that fails any other way refused it (or never got that far). The local test server has
 * no TLS, and this is how the sslmode semantics are checked against real TLS handshakes.
 * Certificates live in test/fixtures/tls (a test CA, valid until 2126).
 */
import { readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { REPO_ROOT } from './cli.js';

export const TLS_FIXTURES = path.join(REPO_ROOT, 'test', 'fixtures', 'tls');
export const HANDSHAKE_DONE = 'tls-endpoint: handshake done';

/** PostgreSQL's SSLRequest code (1234 << 16 | 5679). */
const SSL_REQUEST = 80877103;

export interface TlsEndpoint {
  port: number;
  close(): Promise<void>;
}

function errorResponse(message: string): Buffer {
  const fields = Buffer.concat([
    Buffer.from('SFATAL\0'),
    Buffer.from('C28000\0'),
    Buffer.from(`M${message}\0`),
    Buffer.from('\0'),
  ]);
  const header = Buffer.alloc(5);
  header.write('E', 0);
  header.writeInt32BE(fields.length + 4, 1);
  return Buffer.concat([header, fields]);
}

/** Starts an endpoint presenting `server-<cert>.pem` (`ip`: SAN 127.0.0.1; `name`: SAN db.example.test). */
export async function startTlsEndpoint(cert: 'ip' | 'name'): Promise<TlsEndpoint> {
  const context = tls.createSecureContext({
    cert: readFileSync(path.join(TLS_FIXTURES, `server-${cert}.pem`)),
    key: readFileSync(path.join(TLS_FIXTURES, `server-${cert}-key.pem`)),
  });
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    socket.once('data', (request) => {
      if (request.length < 8 || request.readInt32BE(4) !== SSL_REQUEST) {
        socket.end(errorResponse('tls-endpoint: expected an SSLRequest'));
        return;
      }
      socket.write('S');
      const secure = new tls.TLSSocket(socket, { isServer: true, secureContext: context });
      secure.on('error', () => socket.destroy());
      // The first message after the handshake is the StartupMessage.
      secure.once('data', () => secure.end(errorResponse(HANDSHAKE_DONE)));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
