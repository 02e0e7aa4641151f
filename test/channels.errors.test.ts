/**
 * The channels error mapping, fed GramJS's own errors built the way GramJS builds them
 * (RPCMessageToError from an Api.RpcError, for a real request), and its plain Errors for a lost
 * connection and a timeout.
 */
import { Api } from 'telegram/tl/index.js';
import { FloodWaitError, RPCError, RPCMessageToError } from 'telegram/errors/index.js';
import { describe, expect, it } from 'vitest';
import {
  ChannelAccessError,
  ChannelConnectionError,
  ChannelFloodWait,
  ChannelSessionError,
  mapChannelError,
} from '../src/channels/errors.js';
import { Permanent, RetryAfter } from '../src/jobs/errors.js';

const history = new Api.messages.GetHistory({});
const rpc = (errorCode: number, errorMessage: string, request: Api.AnyRequest = history) =>
  RPCMessageToError(new Api.RpcError({ errorCode, errorMessage }), request) as Error;
const where = { account: 'reader', method: 'messages.GetHistory', channel: '@news' };

describe('mapChannelError', () => {
  it('turns a FloodWaitError into a RetryAfter that pushes back the account and method', async () => {
    const error = rpc(420, 'FLOOD_WAIT_42');
    expect(error).toBeInstanceOf(FloodWaitError);
    const mapped = await mapChannelError(error, { ...where, method: 'users.GetUsers' });
    expect(mapped).toBeInstanceOf(ChannelFloodWait);
    expect(mapped).toBeInstanceOf(RetryAfter);
    const wait = mapped as ChannelFloodWait;
    expect(wait.seconds).toBe(42);
    // The request the error names wins over the caller's guess.
    expect(wait.method).toBe('messages.GetHistory');
    expect(wait.pushBack).toEqual({ limit: 'telegram.mtproto', key: 'reader:messages.GetHistory' });
    expect(wait.message).toBe(
      'Telegram asks account reader to wait 42s before calling messages.GetHistory again (FLOOD_WAIT); the job and every other job on this account and method wait.',
    );
    expect(wait.cause).toBe(error);
    // FLOOD_PREMIUM_WAIT is a FloodWaitError in GramJS too.
    const premium = (await mapChannelError(
      rpc(420, 'FLOOD_PREMIUM_WAIT_5'),
      where,
    )) as ChannelFloodWait;
    expect(premium.seconds).toBe(5);
  });

  it.each([
    [406, 'AUTH_KEY_DUPLICATED', 'used by two connections at once'],
    [401, 'AUTH_KEY_UNREGISTERED', 'not signed in'],
    [401, 'SESSION_REVOKED', 'the session was ended'],
  ])(
    'makes %i %s a Permanent ChannelSessionError naming run telegram:login',
    async (code, name, words) => {
      const error = rpc(code, name);
      expect(error).toBeInstanceOf(RPCError);
      const mapped = await mapChannelError(error, where);
      expect(mapped).toBeInstanceOf(ChannelSessionError);
      expect(mapped).toBeInstanceOf(Permanent);
      expect((mapped as ChannelSessionError).reason).toBe(name);
      expect((mapped as Error).message).toContain(words);
      expect((mapped as Error).message).toContain(
        `(${name}). Create a new session with \`run telegram:login\` and put it in TELEGRAM_SESSION.`,
      );
    },
  );

  it('makes a channel the account cannot read a Permanent ChannelAccessError naming it', async () => {
    const mapped = await mapChannelError(rpc(400, 'CHANNEL_PRIVATE'), where);
    expect(mapped).toBeInstanceOf(ChannelAccessError);
    expect((mapped as Error).message).toBe(
      'Account reader cannot read @news: the channel is private, or the account was banned from it; join it with this account (CHANNEL_PRIVATE).',
    );
  });

  it.each([
    [
      new Error('Cannot send requests while disconnected. Please reconnect.'),
      'the connection to Telegram was lost',
    ],
    [new Error('Not connected'), 'the connection to Telegram was lost'],
    [new Error('TIMEOUT'), 'Telegram did not answer in time'],
    [
      Object.assign(new Error('connect ECONNREFUSED 149.154.167.51:80'), { code: 'ECONNREFUSED' }),
      'the network failed (ECONNREFUSED)',
    ],
    [
      'Maximum reconnection retries reached. Aborting!',
      'the connection to Telegram broke and could not be restored',
    ],
  ])(
    'makes a connection failure (%s) a retryable ChannelConnectionError in plain words',
    async (error, words) => {
      const mapped = await mapChannelError(error, where);
      expect(mapped).toBeInstanceOf(ChannelConnectionError);
      expect(mapped).not.toBeInstanceOf(Permanent);
      expect((mapped as Error).message).toBe(
        `Could not call messages.GetHistory on @news for account reader: ${words}.`,
      );
    },
  );

  it("makes Telegram's server errors retryable", async () => {
    const mapped = await mapChannelError(rpc(500, 'RPC_CALL_FAIL'), where);
    expect(mapped).toBeInstanceOf(ChannelConnectionError);
    expect((mapped as Error).message).toContain('a server error or overload (500 RPC_CALL_FAIL)');
  });

  it('passes through what it does not know, and what it already mapped', async () => {
    const other = rpc(400, 'MSG_ID_INVALID');
    expect(await mapChannelError(other, where)).toBe(other);
    const plain = new TypeError('boom');
    expect(await mapChannelError(plain, where)).toBe(plain);
    const wait = await mapChannelError(rpc(420, 'FLOOD_WAIT_3'), where);
    expect(await mapChannelError(wait, where)).toBe(wait);
  });
});
