/**
 * The sign-in flow behind `run telegram:login` (src/channels/login*.ts) against the scripted
 * LoginClient double, whose errors are GramJS's own classes; the error mapping fed GramJS's
 * errors built as GramJS builds them; the .env rewrite; the answers' checks.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Api } from 'telegram/tl/index.js';
import { FloodWaitError, RPCError, RPCMessageToError } from 'telegram/errors/index.js';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, UsageError } from '../src/errors.js';
import {
  login,
  LoginError,
  loginErrorOf,
  loginSettings,
  MAX_ASKS,
  type LoginAnswers,
  type PendingStore,
} from '../src/channels/login.js';
import { loginAnswers, normalCode, normalPhone } from '../src/channels/login-answers.js';
import { gramjsLoginClient } from '../src/channels/login-gramjs.js';
import { withSession, writeSessionToEnv } from '../src/channels/login-env.js';
import { PENDING_FILE, pendingFile } from '../src/channels/login-pending.js';
import {
  ACCOUNTS,
  calls,
  EXPIRED_CODE,
  INVALID_API_ID,
  LOGIN_CODE,
  loginClient,
  sessionState,
} from './doubles/channels/login.js';
import { tempDir, type TempDir } from './helpers/services.js';

const settings = { apiId: 12345, apiHash: '0123456789abcdef0123456789abcdef' };
let dir: TempDir;
let pending: PendingStore;
let told: string[];

beforeEach(() => {
  dir = tempDir('jobsmith-login-');
  pending = pendingFile(dir.path);
  told = [];
  calls.length = 0;
});
afterEach(() => dir.cleanup());

/** One run without a terminal, the answers from flags. */
function run(flags: { phone?: string; code?: string; password?: string }, apiId = settings.apiId) {
  return login({
    settings: { ...settings, apiId },
    clientOf: loginClient,
    answers: loginAnswers(flags, false),
    pending,
    tell: (line) => told.push(line),
  });
}

const closes = () => calls.filter((c) => c.op === 'close').length;
const opens = () => calls.filter((c) => c.op === 'open').length;

describe('login without a terminal', () => {
  it('sends the code, stops naming --code (exit 2) and keeps the sign-in; the next run with --code finishes it', async () => {
    const phone = ACCOUNTS.plain.phone;
    const first = await run({ phone }).catch((e: unknown) => e);
    expect(first).toBeInstanceOf(UsageError);
    expect((first as UsageError).exitCode).toBe(2);
    expect((first as Error).message).toMatch(/^--code is required when no terminal is attached/);
    expect(told).toEqual([`Telegram sent a login code to the Telegram app of ${phone}.`]);
    const kept = pending.read();
    expect(kept).toMatchObject({ phone, stage: 'code' });
    // Owner-only: it holds a half-made session.
    expect(statSync(path.join(dir.path, PENDING_FILE)).mode & 0o777).toBe(0o600);

    const done = await run({ phone, code: LOGIN_CODE });
    expect(done.user).toEqual(ACCOUNTS.plain.user);
    expect(sessionState(done.session)).toEqual({ phone, stage: 'done' });
    // Continued on the kept session: one code sent in all, and every client closed.
    expect(calls.filter((c) => c.op === 'sendCode')).toHaveLength(1);
    expect(calls.find((c) => c.op === 'open' && c.resumed)).toBeDefined();
    expect(closes()).toBe(opens());
    expect(pending.read()).toBeUndefined();
  });

  it('asks for the 2FA password after the code (naming --password), then signs in with it', async () => {
    const { phone, password, user } = ACCOUNTS.guarded;
    await expect(run({ phone })).rejects.toThrow(/--code is required/);
    const second = await run({ phone, code: LOGIN_CODE }).catch((e: unknown) => e);
    expect(second).toBeInstanceOf(UsageError);
    expect((second as Error).message).toMatch(
      /^--password is required when no terminal is attached: the two-step verification password of \+15550000002/,
    );
    expect(pending.read()).toMatchObject({ phone, stage: 'password' });
    // The same command again still waits for the password (no new code sent).
    await expect(run({ phone, code: LOGIN_CODE })).rejects.toThrow(/^--password is required/);
    // The code is spent; the same command with --password added continues from the password.
    const done = await run({ phone, code: LOGIN_CODE, password });
    expect(done.user).toEqual(user);
    expect(calls.filter((c) => c.op === 'signIn')).toHaveLength(1);
    expect(calls.filter((c) => c.op === 'sendCode')).toHaveLength(1);
    expect(closes()).toBe(opens());
    expect(pending.read()).toBeUndefined();
  });

  it('signs a 2FA account in with every flag on the second run', async () => {
    const { phone, password } = ACCOUNTS.guarded;
    await expect(run({ phone, password })).rejects.toThrow(/--code is required/);
    const done = await run({ phone, code: LOGIN_CODE, password });
    expect(sessionState(done.session).stage).toBe('done');
  });

  it('a wrong code fails with the fix and keeps the sign-in, so the right code still works', async () => {
    const phone = ACCOUNTS.plain.phone;
    await expect(run({ phone })).rejects.toThrow(/--code/);
    const wrong = await run({ phone, code: '54321' }).catch((e: unknown) => e);
    expect(wrong).toBeInstanceOf(LoginError);
    expect(wrong).toMatchObject({ reason: 'PHONE_CODE_INVALID', exitCode: 1 });
    expect((wrong as LoginError).message).toBe('The login code is wrong (PHONE_CODE_INVALID).');
    expect((wrong as LoginError).hint).toMatch(/run the same command with the right --code/);
    expect((wrong as LoginError).cause).toBeInstanceOf(RPCError);
    expect((await run({ phone, code: LOGIN_CODE })).user).toEqual(ACCOUNTS.plain.user);
  });

  it('a wrong password fails with the fix; the right one then finishes without a new code', async () => {
    const { phone, password } = ACCOUNTS.guarded;
    await expect(run({ phone })).rejects.toThrow(/--code/);
    await expect(run({ phone, code: LOGIN_CODE, password: 'wrong' })).rejects.toMatchObject({
      reason: 'PASSWORD_HASH_INVALID',
      message: 'The two-step verification password is wrong (PASSWORD_HASH_INVALID).',
    });
    expect((await run({ phone, password })).user).toEqual(ACCOUNTS.guarded.user);
    expect(calls.filter((c) => c.op === 'sendCode')).toHaveLength(1);
  });

  it('an expired code drops the sign-in and says to get a new code', async () => {
    const phone = ACCOUNTS.plain.phone;
    await expect(run({ phone })).rejects.toThrow(/--code/);
    const expired = await run({ phone, code: EXPIRED_CODE }).catch((e: unknown) => e);
    expect(expired).toMatchObject({ reason: 'PHONE_CODE_EXPIRED' });
    expect((expired as LoginError).hint).toMatch(/without --code: Telegram sends a new one/);
    expect(pending.read()).toBeUndefined();
    expect(closes()).toBe(opens());
  });

  it('refuses --code when no code was requested from this folder (a code needs its connection)', async () => {
    const error = await run({ phone: ACCOUNTS.plain.phone, code: LOGIN_CODE }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).hint).toContain('run telegram:login --phone +15550000001');
    expect(calls).toEqual([]);
  });

  it('maps a flood wait, an unknown number, a refused api_id and an unknown account to plain messages', async () => {
    const flood = await run({ phone: ACCOUNTS.flooded.phone }).catch((e: unknown) => e);
    expect(flood).toMatchObject({ reason: 'FLOOD_WAIT', exitCode: 1 });
    expect((flood as Error).message).toBe(
      'Telegram asks to wait 420 s (about 7 minutes) before this account tries to sign in again (FLOOD_WAIT_420).',
    );
    expect((flood as LoginError).cause).toBeInstanceOf(FloodWaitError);

    await expect(run({ phone: '+15559999999' })).rejects.toMatchObject({
      reason: 'PHONE_NUMBER_INVALID',
      hint: expect.stringMatching(/international format/),
    });
    await expect(run({ phone: ACCOUNTS.plain.phone }, INVALID_API_ID)).rejects.toMatchObject({
      reason: 'API_ID_INVALID',
      hint: expect.stringContaining('https://my.telegram.org/apps'),
    });
    await expect(run({ phone: ACCOUNTS.unknown.phone })).rejects.toThrow(/--code/);
    await expect(run({ phone: ACCOUNTS.unknown.phone, code: LOGIN_CODE })).rejects.toMatchObject({
      reason: 'PHONE_NUMBER_UNOCCUPIED',
    });
    expect(closes()).toBe(opens());
    expect(pending.read()).toBeUndefined();
  });

  it('without --phone fails at once naming it', async () => {
    await expect(run({})).rejects.toThrow(/^--phone is required when no terminal is attached/);
    expect(calls).toEqual([]);
  });
});

describe('login with prompts', () => {
  /** Answers as a person at the prompts gives them, one scripted reply after another. */
  function prompted(replies: { code?: string[]; password?: string[] }) {
    const asked: Array<{ kind: string; problem?: string }> = [];
    const answers: LoginAnswers = {
      given: () => false,
      phone: async () => ACCOUNTS.guarded.phone,
      code: async ({ problem }) => {
        asked.push({ kind: 'code', problem });
        return replies.code?.shift();
      },
      password: async ({ hint, problem }) => {
        asked.push({ kind: `password (${hint})`, problem });
        return replies.password?.shift();
      },
    };
    return { answers, asked };
  }

  it('asks again after a wrong code or password, then signs in, in one run', async () => {
    const { answers, asked } = prompted({
      code: ['11111', LOGIN_CODE],
      password: ['nope', ACCOUNTS.guarded.password],
    });
    const done = await login({ settings, clientOf: loginClient, answers, pending, tell: () => {} });
    expect(done.user).toEqual(ACCOUNTS.guarded.user);
    expect(asked).toEqual([
      { kind: 'code', problem: undefined },
      { kind: 'code', problem: 'That code is wrong; enter the one Telegram sent.' },
      { kind: 'password (the usual)', problem: undefined },
      { kind: 'password (the usual)', problem: 'That password is wrong; try again.' },
    ]);
    expect(pending.read()).toBeUndefined();
  });

  it(`gives up after ${MAX_ASKS} wrong codes`, async () => {
    const { answers, asked } = prompted({ code: ['11111', '22222', '33333', LOGIN_CODE] });
    await expect(
      login({ settings, clientOf: loginClient, answers, pending, tell: () => {} }),
    ).rejects.toMatchObject({ reason: 'PHONE_CODE_INVALID' });
    expect(asked).toHaveLength(MAX_ASKS);
    expect(closes()).toBe(1);
  });
});

describe('loginErrorOf (GramJS errors as GramJS builds them)', () => {
  const rpc = (code: number, message: string, request: Api.AnyRequest) =>
    RPCMessageToError(
      new Api.RpcError({ errorCode: code, errorMessage: message }),
      request,
    ) as Error;

  it('maps FloodWaitError, the auth errors and an unknown RPCError; passes other errors through', () => {
    const flood = rpc(420, 'FLOOD_WAIT_30', new Api.auth.SendCode({} as never));
    expect(flood).toBeInstanceOf(FloodWaitError);
    expect(loginErrorOf(flood, '+1')).toMatchObject({
      reason: 'FLOOD_WAIT',
      message: expect.stringContaining('wait 30 s before'),
    });
    const signIn = new Api.auth.SignIn({} as never);
    for (const name of ['PHONE_CODE_INVALID', 'PHONE_CODE_EXPIRED', 'PHONE_NUMBER_INVALID'])
      expect(loginErrorOf(rpc(400, name, signIn), '+1')).toMatchObject({ reason: name });
    expect(
      loginErrorOf(
        rpc(400, 'PASSWORD_HASH_INVALID', new Api.auth.CheckPassword({} as never)),
        '+1',
      ),
    ).toMatchObject({ reason: 'PASSWORD_HASH_INVALID' });
    expect(loginErrorOf(rpc(400, 'API_ID_INVALID', signIn), '+1')).toMatchObject({
      reason: 'API_ID_INVALID',
      message: expect.stringContaining('TELEGRAM_API_ID and TELEGRAM_API_HASH'),
    });
    const odd = loginErrorOf(rpc(400, 'SOMETHING_NEW', signIn), '+1') as LoginError;
    expect(odd.message).toBe('Telegram refused the sign-in: SOMETHING_NEW (400).');
    // GramJS gives up connecting with a plain Error (gramjs adapters); sockets with a code.
    expect(
      loginErrorOf(new Error('Connection to Telegram failed after 3 tries'), '+1'),
    ).toMatchObject({ reason: 'CONNECTION' });
    const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    expect(loginErrorOf(refused, '+1')).toMatchObject({ reason: 'CONNECTION' });
    const bug = new TypeError('x is undefined');
    expect(loginErrorOf(bug, '+1')).toBe(bug);
  });
});

/** A StringSession (GramJS's format: '1' + base64 of dc, address, port, auth key) for `ip`:80. */
function sessionFor(ip: string): string {
  const address = Buffer.from(ip);
  const length = Buffer.alloc(2);
  length.writeInt16BE(address.length);
  const port = Buffer.alloc(2);
  port.writeInt16BE(80);
  return `1${Buffer.concat([Buffer.from([2]), length, address, port, randomBytes(256)]).toString('base64')}`;
}

describe('the GramJS LoginClient, where no Telegram is needed', () => {
  it('continuing a kept sign-in on an unreachable server fails as a lost connection, keeps the sign-in and closes', async () => {
    const session = sessionFor('127.0.0.1');
    const kept = {
      phone: ACCOUNTS.plain.phone,
      stage: 'code' as const,
      phoneCodeHash: 'abc',
      viaApp: true,
      session,
      sentAt: Date.now(),
    };
    pending.write(kept);
    const opened: Array<{ close(): Promise<void> }> = [];
    const error = await login({
      settings: { ...settings, connectionRetries: 1 },
      clientOf: (s, resumed) => {
        expect(resumed).toBe(session);
        const client = gramjsLoginClient(s, resumed);
        opened.push(client);
        return client;
      },
      answers: loginAnswers({ phone: ACCOUNTS.plain.phone, code: LOGIN_CODE }, false),
      pending,
      tell: () => {},
    }).catch((e: unknown) => e);
    expect(error).toMatchObject({
      reason: 'CONNECTION',
      message:
        'Could not reach Telegram: Connection to Telegram failed after 1 try (GramJS connectionRetries).',
    });
    expect((error as LoginError).hint).toMatch(/^Check the network/);
    // The code is still good once the network is back.
    expect(pending.read()).toEqual(kept);
    expect(opened).toHaveLength(1);
    await opened[0]!.close();
  });
});

describe('login-env: TELEGRAM_SESSION in .env', () => {
  it('replaces every line that sets it and keeps the others', () => {
    const text = 'A=1\nTELEGRAM_SESSION=old\n# note\nexport TELEGRAM_SESSION = "older"\nB=2\n';
    expect(withSession(text, '1new')).toBe(
      'A=1\nTELEGRAM_SESSION=1new\n# note\nTELEGRAM_SESSION=1new\nB=2\n',
    );
    expect(withSession(text, '1new')).toBe(withSession(text, '1new'));
  });

  it('appends it with the file’s own line ending, CRLF kept', () => {
    expect(withSession(undefined, '1s')).toBe('TELEGRAM_SESSION=1s\n');
    expect(withSession('A=1', '1s')).toBe('A=1\nTELEGRAM_SESSION=1s\n');
    expect(withSession('A=1\r\nB=2\r\n', '1s')).toBe('A=1\r\nB=2\r\nTELEGRAM_SESSION=1s\r\n');
    expect(withSession('A=1\r\nTELEGRAM_SESSION=x\r\nB=2\r\n', '1s')).toBe(
      'A=1\r\nTELEGRAM_SESSION=1s\r\nB=2\r\n',
    );
  });

  it('creates a missing file owner-only and keeps an existing file’s other lines', () => {
    const file = path.join(dir.path, '.env');
    expect(writeSessionToEnv(file, '1abc')).toEqual({ created: true });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    writeFileSync(file, 'DB_CONNECTION=sqlite\nTELEGRAM_SESSION=1abc\n');
    expect(writeSessionToEnv(file, '1def')).toEqual({ created: false });
    expect(readFileSync(file, 'utf8')).toBe('DB_CONNECTION=sqlite\nTELEGRAM_SESSION=1def\n');
  });
});

describe('login answers and settings', () => {
  it('normalises phones and codes, and refuses malformed flags (exit 2) naming them', () => {
    expect(normalPhone('+49 (151) 234-5678')).toBe('+491512345678');
    expect(normalPhone('15550000001')).toBe('+15550000001');
    expect(normalPhone('12')).toBeUndefined();
    expect(normalCode('12 345')).toBe('12345');
    expect(normalCode('abc')).toBeUndefined();
    expect(() => loginAnswers({ phone: 'call me' }, false)).toThrow(
      /^--phone must be a phone number/,
    );
    expect(() => loginAnswers({ code: 'x1' }, false)).toThrow(/^--code must be the digits/);
    expect(() => loginAnswers({ password: '' }, false)).toThrow(UsageError);
  });

  it('needs TELEGRAM_API_ID and TELEGRAM_API_HASH, saying where to get them', () => {
    const error = (() => {
      try {
        return loginSettings({});
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toBe(
      'Signing in to Telegram needs TELEGRAM_API_ID (the api_id from https://my.telegram.org/apps, under API development tools), TELEGRAM_API_HASH (the api_hash from https://my.telegram.org/apps, under API development tools).',
    );
    expect(loginSettings({ TELEGRAM_API_ID: 5, TELEGRAM_API_HASH: 'h' })).toMatchObject({
      apiId: 5,
      connectionRetries: 3,
    });
  });
});
