/*
 * Where `run telegram:login` gets its answers: a flag for each (--phone, --code, --password, or
 * TELEGRAM_PASSWORD in the environment, which stays out of shell history), else a prompt
 * (@clack/prompts) when a terminal is attached. Without a terminal a missing phone is a
 * UsageError naming --phone, and a missing code or password answers undefined, so the flow
 * keeps the sign-in and names the flag (DESIGN.md: a prompt only on a terminal, every prompt
 * has a flag).
 */
import { JobsmithError, UsageError } from '../errors.js';
import type { AnswerKind, LoginAnswers } from './login.js';

/** What the flags gave; undefined where none. */
export interface GivenAnswers {
  phone?: string;
  code?: string;
  password?: string;
}

/** E.164: a country code and at most 15 digits (https://www.itu.int/rec/T-REC-E.164). */
const PHONE_DIGITS = /^\+?[1-9]\d{6,14}$/;
/** Telegram's login codes are digits (5 today; the length is auth.sentCodeType's `length`). */
const CODE_DIGITS = /^\d{3,10}$/;

/**
 * The phone in the form auth.sendCode takes (`+` and digits), or undefined when it is not one.
 * Spaces, dashes, dots and brackets are dropped: `+49 (151) 234-567` is `+49151234567`.
 */
export function normalPhone(value: string): string | undefined {
  const digits = value.trim().replace(/[\s\-.()]/g, '');
  if (!PHONE_DIGITS.test(digits)) return undefined;
  return digits.startsWith('+') ? digits : `+${digits}`;
}

/** The code with spaces and dashes dropped (`12 345`), or undefined when it is not digits. */
export function normalCode(value: string): string | undefined {
  const digits = value.trim().replace(/[\s-]/g, '');
  return CODE_DIGITS.test(digits) ? digits : undefined;
}

const PHONE_HELP = 'a phone number in international format, e.g. +4915123456789';
const CODE_HELP = 'the digits Telegram sent, e.g. 12345';

/**
 * The answers, checked: a malformed flag is a UsageError (exit 2) naming it before anything is
 * sent. `interactive` says whether prompts may be shown (src/cli/confirm.ts interactive()).
 */
export function loginAnswers(given: GivenAnswers, interactive: boolean): LoginAnswers {
  const phone = given.phone === undefined ? undefined : normalPhone(given.phone);
  if (given.phone !== undefined && !phone)
    throw new UsageError(`--phone must be ${PHONE_HELP}; got "${given.phone}".`);
  const code = given.code === undefined ? undefined : normalCode(given.code);
  if (given.code !== undefined && !code)
    throw new UsageError(`--code must be ${CODE_HELP}; got "${given.code}".`);
  if (given.password === '')
    throw new UsageError('--password is empty; give the two-step verification password.');
  const has: Record<AnswerKind, boolean> = {
    phone: phone !== undefined,
    code: code !== undefined,
    password: given.password !== undefined,
  };

  return {
    given: (kind) => has[kind],

    async phone() {
      if (phone) return phone;
      if (!interactive)
        throw new UsageError(
          `--phone is required when no terminal is attached: ${PHONE_HELP}, the account to sign in.`,
          {
            hint: 'Pass --phone (then --code on a second run), or run it on a terminal to be asked.',
          },
        );
      const p = await import('@clack/prompts');
      p.intro('Sign in to Telegram (a user account, for reading channels)');
      return normalPhone(
        answered(
          await p.text({
            message: 'Phone number of the account',
            placeholder: '+4915123456789',
            validate: (v) => (normalPhone(v ?? '') ? undefined : `Give ${PHONE_HELP}`),
          }),
        ),
      )!;
    },

    async code({ viaApp, problem }) {
      if (code && !problem) return code;
      if (!interactive) return undefined;
      const p = await import('@clack/prompts');
      if (problem) p.log.warn(problem);
      return normalCode(
        answered(
          await p.text({
            message: `Login code (sent ${viaApp ? 'in the Telegram app' : 'by SMS'})`,
            placeholder: '12345',
            validate: (v) => (normalCode(v ?? '') ? undefined : `Give ${CODE_HELP}`),
          }),
        ),
      )!;
    },

    async password({ hint, problem }) {
      if (given.password !== undefined && !problem) return given.password;
      if (!interactive) return undefined;
      const p = await import('@clack/prompts');
      if (problem) p.log.warn(problem);
      return answered(
        await p.password({
          message: `Two-step verification password${hint ? ` (hint: ${hint})` : ''}`,
          validate: (v) => (v ? undefined : 'The password cannot be empty'),
        }),
      );
    },
  };
}

/** The prompt's answer, or a JobsmithError when the person cancelled (Ctrl-C, Escape). */
function answered(value: string | symbol): string {
  if (typeof value === 'symbol') throw new JobsmithError('Cancelled; no session was made.');
  return value;
}
