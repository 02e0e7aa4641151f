/*
 * `run telegram:login`: signing a user account in to Telegram (MTProto) and getting the
 * StringSession that TELEGRAM_SESSION holds. The flow runs against a narrow port, LoginClient
 * (GramJS in login-gramjs.ts, a scripted double in tests); answers (phone, code, 2FA password)
 * come from flags or prompts (login-answers.ts). Pure: nothing here loads GramJS.
 *
 * MTProto's sign-in (https://core.telegram.org/api/auth): auth.sendCode gives a phone_code_hash
 * tied to the connection's auth key; auth.signIn with the code either signs in or answers
 * SESSION_PASSWORD_NEEDED (two-step verification), after which auth.checkPassword (SRP,
 * https://core.telegram.org/api/srp) finishes it. The auth key then *is* the session. Without a
 * terminal the flow stops after sending the code (or after the code, before the password) and
 * keeps that half-made session (login-pending.ts), so a second run with `--code` (or
 * `--password`) continues on the same auth key: a code is only valid with the hash and key it
 * was sent for.
 */
import { ConfigError, UsageError } from '../errors.js';
import { LoginError, loginErrorOf, WHERE } from './login-errors.js';

export { LoginError, loginErrorOf } from './login-errors.js';

/** Who signed in. */
export interface LoginUser {
  /** The Telegram user id, as a decimal string. */
  id: string;
  username?: string;
  firstName?: string;
}

/** What auth.sendCode answered. */
export interface SentCode {
  /** phone_code_hash: auth.signIn needs it with the code. */
  phoneCodeHash: string;
  /** True when the code went to the Telegram app (auth.sentCodeTypeApp), false for SMS and the rest. */
  viaApp: boolean;
}

/** What auth.signIn answered. */
export type SignInResult =
  | { kind: 'signed-in'; user: LoginUser }
  /** SESSION_PASSWORD_NEEDED: the account has two-step verification; `hint` is its hint. */
  | { kind: 'password-needed'; hint?: string }
  /** auth.authorizationSignUpRequired: no account uses this number. */
  | { kind: 'sign-up-required' };

/**
 * The MTProto calls sign-in needs, on one connection (one auth key). Errors come out as the
 * client throws them (GramJS's RPCError and FloodWaitError, its plain Errors for a lost
 * connection); loginErrorOf maps them.
 */
export interface LoginClient {
  /** auth.sendCode: Telegram sends a login code to `phone` (the app, else SMS). */
  sendCode(phone: string): Promise<SentCode>;
  /** auth.signIn with the code Telegram sent for `phoneCodeHash`. */
  signIn(phone: string, phoneCodeHash: string, code: string): Promise<SignInResult>;
  /** The two-step verification password's hint (account.getPassword), if it has one. */
  passwordHint(): Promise<string | undefined>;
  /** account.getPassword, the SRP check computed from `password`, auth.checkPassword. */
  checkPassword(password: string): Promise<LoginUser>;
  /** The session as it stands (GramJS StringSession.save(): `1` and base64). A secret. */
  session(): string;
  /** Disconnects and frees the client (GramJS destroy()). Idempotent. */
  close(): Promise<void>;
}

/** The app credentials sign-in needs, from https://my.telegram.org/apps. */
export interface LoginSettings {
  apiId: number;
  apiHash: string;
  /** GramJS `connectionRetries` (and `reconnectRetries`). @defaultValue 3 */
  connectionRetries?: number;
}

/** Makes a LoginClient; `session` resumes a half-made sign-in (login-pending.ts), else a new one. */
export type LoginClientFactory = (settings: LoginSettings, session?: string) => LoginClient;

/** The kinds of answer sign-in asks for. */
export type AnswerKind = 'phone' | 'code' | 'password';

/** The flag that gives each answer. */
export const ANSWER_FLAGS: Record<AnswerKind, string> = {
  phone: '--phone',
  code: '--code',
  password: '--password',
};

/**
 * Where answers come from (login-answers.ts: flags, else prompts on a terminal). `code` and
 * `password` answer undefined when there is no flag and no terminal: the flow then keeps the
 * half-made sign-in and stops, naming the flag. `phone` throws UsageError then.
 */
export interface LoginAnswers {
  phone(): Promise<string>;
  code(ask: { phone: string; viaApp: boolean; problem?: string }): Promise<string | undefined>;
  password(ask: { hint?: string; problem?: string }): Promise<string | undefined>;
  /** True when `kind` was given up front (a flag): it is never asked for again. */
  given(kind: AnswerKind): boolean;
}

/** A sign-in stopped half-way, to be continued by the next run (login-pending.ts keeps it). */
export interface PendingLogin {
  phone: string;
  /** 'code': the code was sent; 'password': the code was accepted, the 2FA password is due. */
  stage: 'code' | 'password';
  phoneCodeHash: string;
  viaApp: boolean;
  /** The half-made session (its auth key is the one the code was sent for). A secret. */
  session: string;
  /** When the code was sent, epoch ms. */
  sentAt: number;
}

/** Keeps a PendingLogin between runs. */
export interface PendingStore {
  read(): PendingLogin | undefined;
  write(pending: PendingLogin): void;
  clear(): void;
}

/** Prompts per answer before the flow gives up (a flag is never asked again). */
export const MAX_ASKS = 3;

export interface LoginFlowOptions {
  settings: LoginSettings;
  clientOf: LoginClientFactory;
  answers: LoginAnswers;
  pending: PendingStore;
  /** Progress for the person (stderr): never given a secret. */
  tell(line: string): void;
  /** @defaultValue Date.now */
  now?: () => number;
}

/** What a finished sign-in gives. */
export interface LoginResult {
  /** The StringSession to put in TELEGRAM_SESSION. A secret. */
  session: string;
  user: LoginUser;
}

/**
 * Signs in and returns the session. A pending sign-in for the same phone is continued when the
 * run gives `--code` (or, once the code was accepted, `--password`); otherwise a new code is
 * sent. The client is always closed.
 *
 * Errors: UsageError (exit 2) when an answer is missing and cannot be asked (no terminal),
 * after keeping the sign-in so far; LoginError (exit 1) for what Telegram refused, with the fix.
 */
export async function login(options: LoginFlowOptions): Promise<LoginResult> {
  const { settings, clientOf, answers, pending, tell } = options;
  const now = options.now ?? Date.now;
  const phone = await answers.phone();
  const kept = pending.read();
  // Continue the kept sign-in when the run brings what it waits for: the code, or after the
  // code the password (the same command again with --password added, --code still in it: then
  // the password is asked for on a terminal, or named). Otherwise a new code is sent.
  const resume =
    kept !== undefined &&
    kept.phone === phone &&
    (answers.given('code') || (kept.stage === 'password' && answers.given('password')));
  if (!resume && answers.given('code'))
    throw new UsageError(
      `--code was given, but no login code was requested for ${phone} from this folder: a code only works with the connection it was sent for.`,
      {
        hint: `Run \`run telegram:login --phone ${phone}\` first (Telegram sends the code), then again with --code.`,
      },
    );

  const client = clientOf(settings, resume ? kept.session : undefined);
  try {
    let state: PendingLogin;
    if (resume) {
      state = kept;
    } else {
      const sent = await call(() => client.sendCode(phone), phone);
      state = {
        phone,
        stage: 'code',
        phoneCodeHash: sent.phoneCodeHash,
        viaApp: sent.viaApp,
        session: client.session(),
        sentAt: now(),
      };
      tell(
        `Telegram sent a login code to ${sent.viaApp ? 'the Telegram app of' : 'an SMS to'} ${phone}.`,
      );
    }

    let user: LoginUser | undefined;
    let hint: string | undefined;
    if (state.stage === 'code') {
      const signed = await withCode(client, answers, state, pending);
      if (signed.kind === 'signed-in') user = signed.user;
      else {
        hint = signed.hint;
        state = { ...state, stage: 'password', session: client.session() };
      }
    } else {
      hint = await call(() => client.passwordHint(), phone);
    }
    user ??= await withPassword(client, answers, state, hint, pending);
    pending.clear();
    return { session: client.session(), user };
  } finally {
    await client.close().catch(() => undefined);
  }
}

async function withCode(
  client: LoginClient,
  answers: LoginAnswers,
  state: PendingLogin,
  pending: PendingStore,
): Promise<Exclude<SignInResult, { kind: 'sign-up-required' }>> {
  // The sent code stays valid after a wrong one, a lost connection or a flood wait: the
  // sign-in is kept so a run with the right --code continues.
  const result = await untilAccepted(
    {
      kind: 'code',
      what: `the login code Telegram sent to ${state.phone}`,
      ask: (problem) => answers.code({ phone: state.phone, viaApp: state.viaApp, problem }),
      wrong: {
        reason: 'PHONE_CODE_INVALID',
        problem: 'That code is wrong; enter the one Telegram sent.',
      },
      attempt: (code) => client.signIn(state.phone, state.phoneCodeHash, code),
    },
    answers,
    state,
    pending,
  );
  if (result.kind === 'sign-up-required') {
    pending.clear();
    throw new LoginError(
      'PHONE_NUMBER_UNOCCUPIED',
      `No Telegram account uses ${state.phone}, so there is no session to make.`,
      { hint: 'Sign up with a Telegram app first, then run telegram:login again.' },
    );
  }
  return result;
}

function withPassword(
  client: LoginClient,
  answers: LoginAnswers,
  state: PendingLogin,
  hint: string | undefined,
  pending: PendingStore,
): Promise<LoginUser> {
  return untilAccepted(
    {
      kind: 'password',
      what: `the two-step verification password of ${state.phone}`,
      ask: (problem) => answers.password({ hint, problem }),
      wrong: { reason: 'PASSWORD_HASH_INVALID', problem: 'That password is wrong; try again.' },
      attempt: (password) => client.checkPassword(password),
    },
    answers,
    state,
    pending,
  );
}

/**
 * Asks for the answer (`ask`) and tries it (`attempt`) until Telegram takes it. A wrong answer
 * from a prompt is asked again with `wrong.problem`, MAX_ASKS times in all; one given as a flag
 * is not. No answer (no terminal) keeps the sign-in and throws the UsageError naming the flag.
 * Any refusal keeps the sign-in for the next run unless it cannot go on (keepOrDrop).
 */
async function untilAccepted<T>(
  step: {
    kind: 'code' | 'password';
    /** What is asked for, for the UsageError. */
    what: string;
    ask: (problem: string | undefined) => Promise<string | undefined>;
    wrong: { reason: string; problem: string };
    attempt: (answer: string) => Promise<T>;
  },
  answers: LoginAnswers,
  state: PendingLogin,
  pending: PendingStore,
): Promise<T> {
  let problem: string | undefined;
  for (let asks = 1; ; asks++) {
    const answer = await step.ask(problem);
    if (answer === undefined) {
      pending.write(state);
      throw missing(step.kind, step.what);
    }
    try {
      return await step.attempt(answer);
    } catch (error) {
      const mapped = loginErrorOf(error, state.phone);
      keepOrDrop(pending, state, mapped);
      if (
        mapped instanceof LoginError &&
        mapped.reason === step.wrong.reason &&
        !answers.given(step.kind) &&
        asks < MAX_ASKS
      ) {
        problem = step.wrong.problem;
        continue;
      }
      throw mapped;
    }
  }
}

/** Refusals after which the kept sign-in cannot go on: a new code is needed. */
const DEAD_ENDS = new Set([
  'PHONE_CODE_EXPIRED',
  'PHONE_CODE_HASH_EMPTY',
  'AUTH_RESTART',
  'PHONE_NUMBER_UNOCCUPIED',
  'PHONE_NUMBER_BANNED',
]);

/** Keeps the sign-in for the next run after `error`, unless it cannot go on. */
function keepOrDrop(pending: PendingStore, state: PendingLogin, error: unknown): void {
  if (error instanceof LoginError && DEAD_ENDS.has(error.reason)) pending.clear();
  else pending.write(state);
}

function missing(kind: AnswerKind, what: string): UsageError {
  const flag = ANSWER_FLAGS[kind];
  return new UsageError(
    `${flag} is required when no terminal is attached: ${what}. The sign-in so far is kept.`,
    {
      hint: `Run the same command again with ${flag} added (or on a terminal, to be asked).`,
    },
  );
}

/** `fn()`, its error mapped. */
async function call<T>(fn: () => Promise<T>, phone: string): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw loginErrorOf(error, phone);
  }
}

/**
 * The API credentials from the environment (parsed: src/config/env.ts checks their shape).
 * Throws ConfigError naming each missing one and where to get it.
 */
export function loginSettings(env: {
  TELEGRAM_API_ID?: number;
  TELEGRAM_API_HASH?: string;
}): LoginSettings {
  const missingOnes = [
    env.TELEGRAM_API_ID === undefined && `TELEGRAM_API_ID (the api_id from ${WHERE})`,
    env.TELEGRAM_API_HASH === undefined && `TELEGRAM_API_HASH (the api_hash from ${WHERE})`,
  ].filter((m): m is string => typeof m === 'string');
  if (missingOnes.length > 0)
    throw new ConfigError(`Signing in to Telegram needs ${missingOnes.join(', ')}.`, {
      hint: 'Set them in .env or the environment (docs/channels.md).',
    });
  return { apiId: env.TELEGRAM_API_ID!, apiHash: env.TELEGRAM_API_HASH!, connectionRetries: 3 };
}
