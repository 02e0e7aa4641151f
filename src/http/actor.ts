/*
 * Who a dashboard write came from, for what it records (a cancel's reason, a pause's "by"). The
 * server's own user and host say nothing about that: the dashboard's token is shared, so the
 * best it knows is the user name a browser's basic-auth dialog sent (any name passes with the
 * token as password; operators can type their own) and the client's address.
 */
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context } from 'hono';
import { basicUser } from './security.js';

/** The longest user name kept: a label, not a credential. */
const MAX_USER = 64;

/**
 * "the dashboard, user ann, from 10.0.0.7", "the dashboard, from 127.0.0.1", or "the dashboard":
 * no parentheses, as it is often shown inside some ("cancelled before it ran (...)").
 */
export function dashboardActor(c: Context): string {
  const parts: string[] = [];
  const user = basicUser(c.req.header('authorization'));
  if (user) parts.push(`user ${printableName(user)}`);
  const address = clientAddress(c);
  if (address) parts.push(`from ${address}`);
  return ['the dashboard', ...parts].join(', ');
}

/** The peer's address on node:http (run serve); undefined where the handler is mounted elsewhere. */
function clientAddress(c: Context): string | undefined {
  try {
    return getConnInfo(c).remote.address;
  } catch {
    return undefined;
  }
}

/** Control characters dropped, at most MAX_USER characters: it ends up in a log line. */
function printableName(name: string): string {
  const clean = [...name].filter((ch) => ch >= ' ' && ch !== '\u007f').join('');
  return clean.length > MAX_USER ? `${clean.slice(0, MAX_USER)}…` : clean;
}
