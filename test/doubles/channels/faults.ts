/*
 * The errors the channels double throws: GramJS's own classes, built the way GramJS builds them
 * (RPCMessageToError from an Api.RpcError, for the request the real method would send), so the
 * error mapping meets in tests exactly what it meets in production. GramJS loads only when a
 * fault fires (its Api takes half a second to load).
 */
import { METHODS } from '../../../src/channels/guarded.js';
import type { DoubleFault, DoubleOp } from './file.js';

/** The MTProto request each source method sends in the GramJS adapter (src/channels/guarded.ts). */
const REQUESTS: Record<DoubleOp, string> = METHODS;

const RPC: Record<string, { code: number; message: string }> = {
  auth_key_duplicated: { code: 406, message: 'AUTH_KEY_DUPLICATED' },
  auth_key_unregistered: { code: 401, message: 'AUTH_KEY_UNREGISTERED' },
  session_revoked: { code: 401, message: 'SESSION_REVOKED' },
};

/** The error GramJS would throw for `fault` during `op`. */
export async function faultError(fault: DoubleFault, op: DoubleOp): Promise<Error> {
  // The plain Errors GramJS throws for a lost connection (client/users.js) and a timeout
  // (client/updates.js, downloads): no RPCError class exists for them.
  if (fault.kind === 'disconnected')
    return new Error('Cannot send requests while disconnected. Please reconnect.');
  if (fault.kind === 'timeout') return new Error('TIMEOUT');

  const { Api } = await import('telegram/tl/index.js');
  const { RPCMessageToError } = await import('telegram/errors/index.js');
  const [ns, name] = REQUESTS[op].split('.') as [string, string];
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const request = new (Api as any)[ns][name]({});
  let rpc: { code: number; message: string };
  if (fault.kind === 'flood_wait') {
    if (typeof fault.seconds !== 'number')
      throw new Error('channels double: a flood_wait fault needs `seconds`.');
    rpc = { code: 420, message: `FLOOD_WAIT_${fault.seconds}` };
  } else if (fault.kind === 'rpc') {
    rpc = { code: fault.code ?? 400, message: fault.message ?? 'BAD_REQUEST' };
  } else {
    rpc = RPC[fault.kind]!;
  }
  return RPCMessageToError(
    new Api.RpcError({ errorCode: rpc.code, errorMessage: rpc.message }),
    request,
  ) as Error;
}

/** AUTH_KEY_DUPLICATED, as Telegram answers a second concurrent user of a session. */
export function duplicatedFault(): DoubleFault {
  return { id: 'duplicate-session', op: 'connect', kind: 'auth_key_duplicated' };
}
