/*
 * A ChannelSource over a JSON file (file.ts), for tests and the demo: no network, no GramJS
 * except its error classes. The file is re-read on every call, so a test appends posts or faults
 * while a `run queue:work` subprocess reads them; every call is logged to `<file>.calls.jsonl`.
 *
 * Like Telegram, it refuses a second concurrent user of one session: connect while another live
 * source (this process or another) holds the account's session throws GramJS's
 * AUTH_KEY_DUPLICATED RPCError. Held in `<file>.session-<account>` (owner pid and instance),
 * freed by close(); an owner whose process is gone no longer counts.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import type {
  ChannelMedia,
  ChannelMessage,
  ChannelSource,
  SessionAccount,
} from '../../../src/channels/types.js';
import { appendCall, readCalls, readState, type DoubleCall, type DoubleOp } from './file.js';
import { duplicatedFault, faultError } from './faults.js';

export interface FileChannelSourceOptions {
  /** The JSON file (ChannelsFile.create writes one). */
  file: string;
  /** The account name (leases, flood-wait keys, the session file). @defaultValue 'double' */
  account?: string;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A ChannelSource reading `options.file`; see the module comment. */
export function fileChannelSource(options: FileChannelSourceOptions): ChannelSource {
  const { file } = options;
  const account = options.account ?? 'double';
  const instance = randomUUID();
  const sessionFile = `${file}.session-${account}`;
  let connected = false;

  const log = (call: Omit<DoubleCall, 'pid' | 'instance' | 'account' | 'at'>) =>
    appendCall(file, { pid: process.pid, instance, account, at: Date.now(), ...call });

  const owner = (): { pid: number; instance: string } | undefined => {
    try {
      return JSON.parse(readFileSync(sessionFile, 'utf8')) as { pid: number; instance: string };
    } catch {
      return undefined;
    }
  };

  /** Throws the first scripted fault for this call that still has uses left. */
  const enter = async (op: DoubleOp, extra: { channel?: string; cursor?: number } = {}) => {
    const state = readState(file);
    const used = readCalls(file);
    for (const fault of state.faults) {
      if (fault.op !== op) continue;
      if (fault.channel !== undefined && fault.channel !== extra.channel) continue;
      const times = fault.times === undefined ? 1 : fault.times;
      if (times !== null && used.filter((c) => c.fault === fault.id).length >= times) continue;
      log({ op, ...extra, fault: fault.id });
      throw await faultError(fault, op);
    }
    return state;
  };

  const requireConnected = (op: DoubleOp) => {
    if (connected) return;
    const error = new Error('Cannot send requests while disconnected. You need to call .connect()');
    log({ op, error: error.message });
    throw error;
  };

  return {
    account,

    async connect(signal) {
      signal?.throwIfAborted();
      if (connected) return;
      await enter('connect');
      const held = owner();
      if (held && held.instance !== instance && alive(held.pid)) {
        const fault = duplicatedFault();
        log({ op: 'connect', fault: fault.id });
        throw await faultError(fault, 'connect');
      }
      writeFileSync(sessionFile, JSON.stringify({ pid: process.pid, instance }));
      connected = true;
      log({ op: 'connect' });
    },

    async checkSession(signal): Promise<SessionAccount> {
      signal?.throwIfAborted();
      requireConnected('checkSession');
      const state = await enter('checkSession');
      if (state.session === null) {
        const id = 'session-revoked';
        log({ op: 'checkSession', fault: id });
        throw await faultError({ id, op: 'checkSession', kind: 'session_revoked' }, 'checkSession');
      }
      log({ op: 'checkSession' });
      return state.session;
    },

    async readSince(channel, cursor, limit, signal): Promise<ChannelMessage[]> {
      signal?.throwIfAborted();
      if (!Number.isInteger(limit) || limit < 1 || limit > 100)
        throw new RangeError(`readSince takes a limit of 1 to 100, got ${limit}.`);
      requireConnected('readSince');
      const state = await enter('readSince', { channel, cursor });
      const list = state.channels[channel];
      if (!list) {
        // What Telegram answers for a username nobody has.
        const id = `unknown-channel`;
        log({ op: 'readSince', channel, cursor, fault: id });
        throw await faultError(
          { id, op: 'readSince', kind: 'rpc', code: 400, message: 'USERNAME_NOT_OCCUPIED' },
          'readSince',
        );
      }
      log({ op: 'readSince', channel, cursor });
      return list
        .filter((m) => m.id > cursor)
        .sort((a, b) => a.id - b.id)
        .slice(0, limit)
        .map((m) => ({
          channel,
          ...m,
          ...(m.media ? { media: m.media.map(({ data: _data, ...media }) => media) } : {}),
        }));
    },

    async downloadMedia(message: ChannelMessage, media: ChannelMedia, signal): Promise<Buffer> {
      signal?.throwIfAborted();
      requireConnected('downloadMedia');
      const state = await enter('downloadMedia', { channel: message.channel });
      const stored = state.channels[message.channel]
        ?.find((m) => m.id === message.id)
        ?.media?.find((m) => m.id === media.id);
      if (!stored) {
        const id = 'unknown-media';
        log({ op: 'downloadMedia', channel: message.channel, fault: id });
        throw await faultError(
          { id, op: 'downloadMedia', kind: 'rpc', code: 400, message: 'FILE_REFERENCE_INVALID' },
          'downloadMedia',
        );
      }
      log({ op: 'downloadMedia', channel: message.channel });
      return stored.data === undefined
        ? Buffer.from(`media:${stored.id}`)
        : Buffer.from(stored.data, 'base64');
    },

    async close() {
      if (!connected) return;
      connected = false;
      if (owner()?.instance === instance) {
        try {
          unlinkSync(sessionFile);
        } catch {
          // Already gone: nothing to free.
        }
      }
      log({ op: 'close' });
    },
  };
}
