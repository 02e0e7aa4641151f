/*
 * The JSON file behind the channels double (source.ts): its shape, and the writer a test uses to
 * set it up and append posts while a worker subprocess reads it. Every write replaces the file
 * atomically (write a temporary file, rename it), so a reader never sees half a file.
 */
import { appendFileSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { ChannelMedia, ChannelMessage, SessionAccount } from '../../../src/channels/types.js';

/** A media entry of the file: ChannelMedia plus, optionally, its bytes. */
export interface DoubleMedia extends ChannelMedia {
  /** The bytes downloadMedia returns, base64. @defaultValue the UTF-8 of `media:<id>` */
  data?: string;
}

/** A message as stored in the file (its channel is the key it is stored under). */
export interface DoubleMessage extends Omit<ChannelMessage, 'channel' | 'media'> {
  media?: DoubleMedia[];
}

/** The source methods a fault can hit. */
export type DoubleOp = 'connect' | 'checkSession' | 'readSince' | 'downloadMedia';

/**
 * What a fault throws, always a GramJS class or the plain Error GramJS itself throws:
 * - `flood_wait`: FloodWaitError (`FLOOD_WAIT_<seconds>`, code 420), `seconds` required;
 * - `auth_key_duplicated` (406), `auth_key_unregistered` (401), `session_revoked` (401):
 *   the RPCError GramJS builds for that message (RPCMessageToError);
 * - `rpc`: any other RPCError, from `code` and `message` (e.g. 400 CHANNEL_PRIVATE);
 * - `disconnected`: GramJS's `Error('Cannot send requests while disconnected. Please reconnect.')`;
 * - `timeout`: GramJS's `Error('TIMEOUT')` (its request and ping timeouts).
 */
export type DoubleFaultKind =
  | 'flood_wait'
  | 'auth_key_duplicated'
  | 'auth_key_unregistered'
  | 'session_revoked'
  | 'rpc'
  | 'disconnected'
  | 'timeout';

export interface DoubleFault {
  /** Assigned by ChannelsFile.fault; counts the fault's uses in the call log. */
  id: string;
  op: DoubleOp;
  /** Only calls for this channel (readSince, downloadMedia). */
  channel?: string;
  kind: DoubleFaultKind;
  /** flood_wait's wait, seconds. */
  seconds?: number;
  /** rpc's code and message. */
  code?: number;
  message?: string;
  /** How many calls it hits, across processes; null: every call. @defaultValue 1 */
  times?: number | null;
}

/** The whole file. */
export interface DoubleState {
  /** The session's owner as checkSession reports it; null: the session was revoked. */
  session: SessionAccount | null;
  /** Messages by channel name (as callers name it: `@news`). */
  channels: Record<string, DoubleMessage[]>;
  faults: DoubleFault[];
}

/** One line of the call log (`<file>.calls.jsonl`), written by the source on every call. */
export interface DoubleCall {
  pid: number;
  /** The source instance (one per fileChannelSource call). */
  instance: string;
  account: string;
  op: DoubleOp | 'close';
  channel?: string;
  cursor?: number;
  /** Epoch ms. */
  at: number;
  /** The id of the fault thrown, if one was. */
  fault?: string;
  /** Error messages other than faults (an unknown channel...). */
  error?: string;
}

export const callLogOf = (file: string) => `${file}.calls.jsonl`;

export function readState(file: string): DoubleState {
  return JSON.parse(readFileSync(file, 'utf8')) as DoubleState;
}

export function readCalls(file: string): DoubleCall[] {
  let text: string;
  try {
    text = readFileSync(callLogOf(file), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as DoubleCall);
}

export function appendCall(file: string, call: DoubleCall): void {
  // One short line with O_APPEND: lines of concurrent processes do not interleave.
  appendFileSync(callLogOf(file), `${JSON.stringify(call)}\n`);
}

let tmpCounter = 0;

function writeState(file: string, state: DoubleState): void {
  const tmp = `${file}.${process.pid}.${++tmpCounter}.tmp`;
  writeFileSync(tmp, JSON.stringify(state, null, 2));
  renameSync(tmp, file);
}

/**
 * The test's handle on the file.
 *
 * ```ts
 * const file = ChannelsFile.create(path.join(dir, 'channels.json'));
 * file.post('@news', { text: 'hello' });             // id 1, date now
 * file.fault({ op: 'readSince', kind: 'flood_wait', seconds: 3 });
 * // env: the worker builds fileChannelSource({ file: file.path })
 * expect(file.calls().filter((c) => c.op === 'connect')).toHaveLength(1);
 * ```
 */
export class ChannelsFile {
  private faultCount = 0;

  private constructor(readonly path: string) {}

  /** Writes a new file: an empty session owner `{ userId: '1000', username: 'reader' }` unless given. */
  static create(file: string, init: Partial<DoubleState> = {}): ChannelsFile {
    writeState(file, {
      session: init.session === undefined ? { userId: '1000', username: 'reader' } : init.session,
      channels: init.channels ?? {},
      faults: init.faults ?? [],
    });
    return new ChannelsFile(file);
  }

  read(): DoubleState {
    return readState(this.path);
  }

  /** Changes the file in place (read, change, write). */
  update(change: (state: DoubleState) => void): void {
    const state = this.read();
    change(state);
    writeState(this.path, state);
  }

  /**
   * Appends a message to a channel (created if new). `id` defaults to the channel's last id + 1,
   * `date` to now. Returns the message as readSince gives it.
   */
  post(
    channel: string,
    message: Partial<DoubleMessage> & { text: string },
  ): ChannelMessage & { media?: DoubleMedia[] } {
    let stored: DoubleMessage | undefined;
    this.update((state) => {
      const list = (state.channels[channel] ??= []);
      const last = list.reduce((max, m) => Math.max(max, m.id), 0);
      stored = { id: last + 1, date: Date.now(), ...message };
      list.push(stored);
    });
    return { channel, ...stored! };
  }

  /** Adds a fault; returns its id (to find its uses in calls()). */
  fault(fault: Omit<DoubleFault, 'id'>): string {
    const id = `${process.pid}-${++this.faultCount}-${Date.now()}`;
    this.update((state) => {
      state.faults.push({ ...fault, id });
    });
    return id;
  }

  /** Removes every fault. */
  clearFaults(): void {
    this.update((state) => {
      state.faults = [];
    });
  }

  /** Revokes the session (checkSession answers SESSION_REVOKED) or gives it an owner again. */
  setSession(session: SessionAccount | null): void {
    this.update((state) => {
      state.session = session;
    });
  }

  /** Every call any source made on this file, in order. */
  calls(): DoubleCall[] {
    return readCalls(this.path);
  }
}
