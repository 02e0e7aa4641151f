/**
 * A scripted LoginClient for `run telegram:login` (src/channels/login.ts): the real MTProto
 * cannot run in tests. Its errors are GramJS's own classes, built as GramJS builds them
 * (RPCMessageToError from an Api.RpcError, for the request the GramJS client sends), so the
 * error mapping meets what it meets in production.
 *
 * Like Telegram, a login code only works with the connection (auth key) it was sent for: the
 * double keeps its state in the session string itself (`1` and base64 JSON), so a second
 * process that continues a pending sign-in with that session can sign in, and one without it
 * cannot (PHONE_CODE_HASH_EMPTY).
 *
 * The command uses it when JOBSMITH_TEST_LOGIN_DOUBLE names this file (test-only hook).
 * JOBSMITH_TEST_LOGIN_CALLS, when set, names a file each call is appended to (JSON lines).
 */
import { appendFileSync } from 'node:fs';
import type {
  LoginClient,
  LoginClientFactory,
  LoginSettings,
  LoginUser,
} from '../../../src/channels/login.js';

/** The scripted accounts, by phone. Every other phone is PHONE_NUMBER_INVALID. */
export const ACCOUNTS = {
  /** Signs in with the code. */
  plain: { phone: '+15550000001', user: { id: '1001', username: 'plain' } },
  /** Has two-step verification. */
  guarded: {
    phone: '+15550000002',
    user: { id: '1002', username: 'guarded' },
    password: 'correct horse',
    hint: 'the usual',
  },
  /** auth.sendCode answers FLOOD_WAIT_420. */
  flooded: { phone: '+15550000003', seconds: 420 },
  /** No account uses it (auth.authorizationSignUpRequired). */
  unknown: { phone: '+15550000004' },
} as const;

/** The code Telegram "sends" every time; EXPIRED_CODE answers PHONE_CODE_EXPIRED. */
export const LOGIN_CODE = '12345';
export const EXPIRED_CODE = '00000';
/** An api_id Telegram refuses (API_ID_INVALID). */
export const INVALID_API_ID = 1;

interface State {
  phone?: string;
  hash?: string;
  stage?: 'code' | 'password' | 'done';
}

/** Every call of this process, in order (the calls file has those of every process). */
export const calls: Array<{ op: string; [key: string]: unknown }> = [];

function record(op: string, details: Record<string, unknown> = {}): void {
  const call = { op, ...details };
  calls.push(call);
  const file = process.env.JOBSMITH_TEST_LOGIN_CALLS;
  if (file) appendFileSync(file, `${JSON.stringify(call)}\n`);
}

const encode = (state: State) => `1${Buffer.from(JSON.stringify(state)).toString('base64')}`;
function decode(session: string | undefined): State {
  if (!session) return {};
  return JSON.parse(Buffer.from(session.slice(1), 'base64').toString('utf8')) as State;
}

async function rpc(code: number, message: string, request: string): Promise<Error> {
  const { Api } = await import('telegram/tl/index.js');
  const { RPCMessageToError } = await import('telegram/errors/index.js');
  const [ns, name] = request.split('.') as [string, string];
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const req = new (Api as any)[ns][name]({});
  return RPCMessageToError(
    new Api.RpcError({ errorCode: code, errorMessage: message }),
    req,
  ) as Error;
}

function account(phone: string | undefined) {
  return Object.values(ACCOUNTS).find((a) => a.phone === phone);
}

/** The double's LoginClientFactory. */
export const loginClient: LoginClientFactory = (
  settings: LoginSettings,
  session?: string,
): LoginClient => {
  let state = decode(session);
  let closed = false;
  record('open', { resumed: session !== undefined });
  const alive = () => {
    if (closed)
      throw new Error('Cannot send requests while disconnected. You need to call .connect()');
  };
  return {
    async sendCode(phone) {
      alive();
      record('sendCode', { phone });
      if (settings.apiId === INVALID_API_ID)
        throw await rpc(400, 'API_ID_INVALID', 'auth.SendCode');
      const a = account(phone);
      if (!a) throw await rpc(400, 'PHONE_NUMBER_INVALID', 'auth.SendCode');
      if (a === ACCOUNTS.flooded)
        throw await rpc(420, `FLOOD_WAIT_${ACCOUNTS.flooded.seconds}`, 'auth.SendCode');
      const hash = `hash-${Math.random().toString(16).slice(2)}`;
      state = { phone, hash, stage: 'code' };
      return { phoneCodeHash: hash, viaApp: true };
    },

    async signIn(phone, phoneCodeHash, code) {
      alive();
      record('signIn', { phone, code });
      if (state.stage !== 'code' || state.phone !== phone || state.hash !== phoneCodeHash)
        throw await rpc(400, 'PHONE_CODE_HASH_EMPTY', 'auth.SignIn');
      if (code === EXPIRED_CODE) throw await rpc(400, 'PHONE_CODE_EXPIRED', 'auth.SignIn');
      if (code !== LOGIN_CODE) throw await rpc(400, 'PHONE_CODE_INVALID', 'auth.SignIn');
      const a = account(phone);
      if (a === ACCOUNTS.unknown) return { kind: 'sign-up-required' };
      if (a === ACCOUNTS.guarded) {
        state = { phone, stage: 'password' };
        return { kind: 'password-needed', hint: ACCOUNTS.guarded.hint };
      }
      state = { phone, stage: 'done' };
      return { kind: 'signed-in', user: { ...(a as { user: LoginUser }).user } };
    },

    async passwordHint() {
      alive();
      record('passwordHint');
      return ACCOUNTS.guarded.hint;
    },

    async checkPassword(password) {
      alive();
      record('checkPassword');
      if (state.stage !== 'password' || state.phone !== ACCOUNTS.guarded.phone)
        throw await rpc(401, 'AUTH_KEY_UNREGISTERED', 'auth.CheckPassword');
      if (password !== ACCOUNTS.guarded.password)
        throw await rpc(400, 'PASSWORD_HASH_INVALID', 'auth.CheckPassword');
      state = { phone: state.phone, stage: 'done' };
      return { ...ACCOUNTS.guarded.user };
    },

    session() {
      return encode(state);
    },

    async close() {
      if (!closed) record('close');
      closed = true;
    },
  };
};

/** What the double's session says: who signed in, and how far (for assertions). */
export function sessionState(session: string): State {
  return decode(session);
}
