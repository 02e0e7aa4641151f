/**
 * A local SMTP server for tests and the bench: the real `smtp-server` package on 127.0.0.1, with
 * AUTH (PLAIN, LOGIN) and STARTTLS or TLS from the first byte on the test certificate
 * (test/fixtures/tls/server-ip.pem: SAN 127.0.0.1, signed by test/fixtures/tls/ca.pem, which a
 * client trusts through `tls.ca` in-process or NODE_EXTRA_CA_CERTS in a spawned `run`).
 *
 * Per-recipient replies are programmable (`reply('x@example.com', 550, 'No such user')`: a
 * 5xx or 4xx answer to its RCPT TO), and every message taken is kept in `messages`, raw.
 * `silent` accepts connections and never greets (a client's greeting timeout).
 */
import { readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';

const FIXTURES = fileURLToPath(new URL('../../fixtures/tls/', import.meta.url));

/** The CA that signed the double's certificate. */
export const SMTP_TEST_CA = path.join(FIXTURES, 'ca.pem');

export interface CapturedMessage {
  from: string;
  to: string[];
  /** The message as sent: headers and body. */
  raw: string;
  /** The user who logged in, if any. */
  user?: string;
  /** When the message was taken: epoch ms, comparable across processes. */
  receivedAt: number;
}

export interface SmtpDoubleOptions {
  /** `starttls` (offered, plain first), `tls` (TLS from the first byte) or `none` (no STARTTLS). @defaultValue 'starttls' */
  security?: 'starttls' | 'tls' | 'none';
  /** Credentials it accepts; without them no login is asked. */
  auth?: { user: string; pass: string };
  /** Whether EHLO offers AUTH (smtp-server offers it even when no login is asked). @defaultValue true */
  offerAuth?: boolean;
}

export interface SmtpDouble {
  port: number;
  /** smtp://user:pass@127.0.0.1:port (or smtps://), with the double's credentials. */
  url: string;
  messages: CapturedMessage[];
  /** Connections it accepted so far. */
  connections: number;
  /** Answers RCPT TO for `address` with `code` and `message` from now on (550, 451...). */
  reply(address: string, code: number, message: string): void;
  close(): Promise<void>;
}

/** Starts the double on a free port of 127.0.0.1. */
export async function startSmtpDouble(options: SmtpDoubleOptions = {}): Promise<SmtpDouble> {
  const security = options.security ?? 'starttls';
  const replies = new Map<string, { code: number; message: string }>();
  const messages: CapturedMessage[] = [];
  let connections = 0;
  const config: SMTPServerOptions = {
    secure: security === 'tls',
    key: readFileSync(path.join(FIXTURES, 'server-ip-key.pem')),
    cert: readFileSync(path.join(FIXTURES, 'server-ip.pem')),
    hideSTARTTLS: security === 'none',
    disableReverseLookup: true,
    logger: false,
    authOptional: options.auth === undefined,
    authMethods: ['PLAIN', 'LOGIN'],
    disabledCommands: options.offerAuth === false ? ['AUTH'] : [],
    // Login over plain text too (a `none` double); real servers refuse it.
    allowInsecureAuth: true,
    onConnect(_session, callback) {
      connections++;
      callback();
    },
    onAuth(auth, _session, callback) {
      if (
        options.auth &&
        auth.username === options.auth.user &&
        auth.password === options.auth.pass
      )
        return callback(null, { user: auth.username });
      const error = Object.assign(new Error('Authentication credentials invalid'), {
        responseCode: 535,
      });
      return callback(error);
    },
    onRcptTo(address, _session, callback) {
      const programmed = replies.get(address.address.toLowerCase());
      if (programmed)
        return callback(
          Object.assign(new Error(programmed.message), { responseCode: programmed.code }),
        );
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        messages.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
          user: typeof session.user === 'string' ? session.user : undefined,
          receivedAt: performance.timeOrigin + performance.now(),
        });
        callback(null, `Ok: queued as test-${messages.length}`);
      });
    },
  };
  const server = new SMTPServer(config);
  server.on('error', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as net.AddressInfo).port;
  const credentials = options.auth
    ? `${encodeURIComponent(options.auth.user)}:${encodeURIComponent(options.auth.pass)}@`
    : '';
  return {
    port,
    url: `${security === 'tls' ? 'smtps' : 'smtp'}://${credentials}127.0.0.1:${port}`,
    messages,
    get connections() {
      return connections;
    },
    reply(address, code, message) {
      replies.set(address.toLowerCase(), { code, message });
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A server that accepts connections and never says a word: a client's greeting times out. */
export async function startSilentServer(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
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
