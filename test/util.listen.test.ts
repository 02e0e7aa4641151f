/**
 * listenOn (src/util/listen.ts), behind `run serve` and the /metrics endpoint: an IPv6 host is
 * taken as users write it in a URL, in brackets, and the origin it reports is one a browser
 * opens.
 */
import http from 'node:http';
import { describe, expect, it } from 'vitest';
import { listenOn } from '../src/util/listen.js';

const explain = (error: NodeJS.ErrnoException) => new Error(`cannot listen: ${error.code}`);

describe('listenOn', () => {
  it.each(['[::1]', '::1'])(
    'listens on IPv6 loopback given as %s, origin in brackets',
    async (host) => {
      const server = http.createServer((_req, res) => res.end('ok'));
      const listening = await listenOn(server, host, 0, explain);
      try {
        expect(listening.origin).toBe(`http://[::1]:${listening.port}`);
        const response = await fetch(`${listening.origin}/`);
        expect(await response.text()).toBe('ok');
      } finally {
        await listening.close();
      }
    },
  );

  it('throws what explain makes of an address that is not of this machine, and closes the server', async () => {
    const server = http.createServer();
    await expect(listenOn(server, '192.0.2.1', 0, explain)).rejects.toThrow(
      'cannot listen: EADDRNOTAVAIL',
    );
    expect(server.listening).toBe(false);
  });
});
