/**
 * `run telegram:login` as a user runs it (spawned bin/run in a scratch folder), signing in
 * against the scripted LoginClient double (JOBSMITH_TEST_LOGIN_DOUBLE, loaded through jiti):
 * without a terminal it never prompts (the first run sends the code and exits 2 naming --code,
 * the next finishes with the flags); 2FA; a wrong code; --write-env; --json; on a terminal it
 * asks with prompts. The session goes to stdout only; every process closes its client.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sessionFingerprint } from '../src/channels/lease.js';
import { PENDING_FILE } from '../src/channels/login-pending.js';
import { ACCOUNTS, LOGIN_CODE, sessionState } from './doubles/channels/login.js';
import { CLI_PATH, cliEnv, runCli } from './helpers/cli.js';
import { appEnv } from './helpers/env.js';
import { tempDir, type TempDir } from './helpers/services.js';
import { terminalAvailable } from './helpers/terminal.js';

const DOUBLE = fileURLToPath(new URL('./doubles/channels/login.ts', import.meta.url));
const SESSION_LINE = /^TELEGRAM_SESSION=(1[A-Za-z0-9+/=]+)\n$/;

let dir: TempDir;
let callsFile: string;
beforeEach(() => {
  dir = tempDir('jobsmith-login-cli-');
  callsFile = path.join(dir.path, 'calls.jsonl');
});
afterEach(() => dir.cleanup());

function env(extra: Record<string, string | undefined> = {}) {
  return appEnv({
    TELEGRAM_API_ID: '12345',
    TELEGRAM_API_HASH: '0123456789abcdef0123456789abcdef',
    TELEGRAM_PASSWORD: undefined,
    JOBSMITH_TEST_LOGIN_DOUBLE: DOUBLE,
    JOBSMITH_TEST_LOGIN_CALLS: callsFile,
    ...extra,
  });
}
const run = (args: string[], extra: Record<string, string | undefined> = {}) =>
  runCli(['telegram:login', ...args], { cwd: dir.path, env: env(extra), timeoutMs: 30_000 });

function calls(): Array<{ op: string }> {
  if (!existsSync(callsFile)) return [];
  return readFileSync(callsFile, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { op: string });
}
const count = (op: string) => calls().filter((c) => c.op === op).length;

describe('run telegram:login without a terminal', () => {
  it('sends the code and exits 2 naming --code; the same command with --code prints the session line on stdout', async () => {
    const phone = ACCOUNTS.plain.phone;
    const first = await run(['--phone', phone]);
    expect(first.code).toBe(2);
    expect(first.stdout).toBe('');
    expect(first.stderr).toContain(`Telegram sent a login code to the Telegram app of ${phone}.`);
    expect(first.stderr).toContain(
      `Error: --code is required when no terminal is attached: the login code Telegram sent to ${phone}.`,
    );
    expect(existsSync(path.join(dir.path, PENDING_FILE))).toBe(true);

    const second = await run(['--phone', phone, '--code', LOGIN_CODE]);
    expect(second.code).toBe(0);
    const session = SESSION_LINE.exec(second.stdout)![1]!;
    expect(sessionState(session)).toEqual({ phone, stage: 'done' });
    expect(second.stderr).toContain(
      `Signed in as @plain (user 1001) (session ${sessionFingerprint(session)}).`,
    );
    // The secret is on stdout only.
    expect(second.stderr).not.toContain(session);
    expect(existsSync(path.join(dir.path, PENDING_FILE))).toBe(false);
    expect(count('sendCode')).toBe(1);
    expect(count('close')).toBe(count('open'));
  });

  it('signs a 2FA account in: --password named when missing, taken from TELEGRAM_PASSWORD; --json prints {session, user}', async () => {
    const { phone, password, user } = ACCOUNTS.guarded;
    expect((await run(['--phone', phone])).code).toBe(2);
    const asked = await run(['--phone', phone, '--code', LOGIN_CODE]);
    expect(asked.code).toBe(2);
    expect(asked.stderr).toContain('Error: --password is required when no terminal is attached');
    const done = await run(['--phone', phone, '--json'], { TELEGRAM_PASSWORD: password });
    expect(done.code).toBe(0);
    const printed = JSON.parse(done.stdout) as { session: string; user: unknown };
    expect(printed.user).toEqual(user);
    expect(sessionState(printed.session)).toEqual({ phone, stage: 'done' });
    expect(done.stderr).toBe('');
    expect(count('close')).toBe(count('open'));
  });

  it('a wrong code exits 1 with the reason and the fix, no stack trace, nothing on stdout', async () => {
    const phone = ACCOUNTS.plain.phone;
    await run(['--phone', phone]);
    const wrong = await run(['--phone', phone, '--code', '99999']);
    expect(wrong.code).toBe(1);
    expect(wrong.stdout).toBe('');
    expect(wrong.stderr).toContain('Error: The login code is wrong (PHONE_CODE_INVALID).');
    expect(wrong.stderr).toContain('run the same command with the right --code');
    expect(wrong.stderr).not.toContain('    at ');
    // The sign-in is kept: the right code still finishes it.
    expect((await run(['--phone', phone, '--code', LOGIN_CODE])).code).toBe(0);
  });

  it('a flood wait exits 1 saying how long to wait', async () => {
    const flood = await run(['--phone', ACCOUNTS.flooded.phone]);
    expect(flood.code).toBe(1);
    expect(flood.stderr).toContain(
      'Error: Telegram asks to wait 420 s (about 7 minutes) before this account tries to sign in again (FLOOD_WAIT_420).',
    );
  });

  it('--write-env replaces TELEGRAM_SESSION in .env, keeping the other lines and CRLF; the session is not printed', async () => {
    const envFile = path.join(dir.path, '.env');
    writeFileSync(envFile, 'DB_CONNECTION=sqlite\r\nTELEGRAM_SESSION=1old\r\nLOG_LEVEL=info\r\n');
    const phone = ACCOUNTS.plain.phone;
    await run(['--phone', phone]);
    const done = await run(['--phone', phone, '--code', LOGIN_CODE, '--write-env']);
    expect(done.code).toBe(0);
    const text = readFileSync(envFile, 'utf8');
    const session = /TELEGRAM_SESSION=(\S+)\r\n/.exec(text)![1]!;
    expect(text).toBe(`DB_CONNECTION=sqlite\r\nTELEGRAM_SESSION=${session}\r\nLOG_LEVEL=info\r\n`);
    expect(sessionState(session).stage).toBe('done');
    expect(done.stdout).toBe(
      `Wrote TELEGRAM_SESSION (session ${sessionFingerprint(session)}) to ${envFile}.\n`,
    );
    expect(done.stderr).not.toContain(session);
  });

  it('--write-env FILE writes another file, created owner-only', async () => {
    const phone = ACCOUNTS.plain.phone;
    await run(['--phone', phone]);
    const done = await run(['--phone', phone, '--code', LOGIN_CODE, '--write-env', 'prod.env']);
    expect(done.code).toBe(0);
    const file = path.join(dir.path, 'prod.env');
    expect(readFileSync(file, 'utf8')).toMatch(SESSION_LINE);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('exits 2 naming --phone when no phone is given, and 1 naming the API variables when they are missing', async () => {
    const noPhone = await run([]);
    expect(noPhone.code).toBe(2);
    expect(noPhone.stderr).toContain('Error: --phone is required when no terminal is attached');
    const noApi = await run(['--phone', ACCOUNTS.plain.phone], {
      TELEGRAM_API_ID: undefined,
      TELEGRAM_API_HASH: undefined,
    });
    expect(noApi.code).toBe(1);
    expect(noApi.stderr).toContain(
      'Signing in to Telegram needs TELEGRAM_API_ID (the api_id from https://my.telegram.org/apps',
    );
    expect(calls()).toEqual([]);
  });

  it('--help says the session is a secret printed only on stdout, and the exit codes', async () => {
    const help = await runCli(['telegram:login', '--help'], { cwd: dir.path, env: env() });
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('printed\nonly on stdout');
    expect(help.stdout).toContain('Exit 0 signed in; 1 Telegram refused');
  });
});

/** `run telegram:login` on a pseudo-terminal (script(1)), answering its prompts as they show. */
function onTerminal(extra: Record<string, string | undefined> = {}) {
  const child = spawn(
    'script',
    ['-qec', `stty cols 120 rows 40; node '${CLI_PATH}' telegram:login`, '/dev/null'],
    { cwd: dir.path, env: cliEnv(env(extra)), stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let output = '';
  const grow = (chunk: Buffer) => (output += chunk.toString());
  child.stdout.on('data', grow);
  child.stderr.on('data', grow);
  const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const exited = new Promise<number | null>((resolve) =>
    child.on('close', (code) => {
      clearTimeout(killer);
      resolve(code);
    }),
  );
  let seen = 0;
  return {
    exited,
    output: () => output,
    /** Waits (bounded) until `pattern` shows after the last answered prompt, then types `line` and Enter. */
    async answer(pattern: RegExp, line: string) {
      let match: RegExpExecArray | null = null;
      for (let i = 0; i < 300 && !(match = pattern.exec(output.slice(seen))); i++)
        await new Promise((resolve) => setTimeout(resolve, 50));
      if (!match) throw new Error(`${pattern} never showed; the terminal so far:\n${output}`);
      seen += match.index + match[0].length;
      child.stdin.write(`${line}\r`);
    },
  };
}

describe.skipIf(!terminalAvailable)('run telegram:login on a terminal', () => {
  it('asks for the phone, the code and the 2FA password (again after a wrong one) and prints the session', async () => {
    const t = onTerminal();
    await t.answer(/Phone number of the account/, ACCOUNTS.guarded.phone);
    await t.answer(/Login code \(sent in the Telegram app\)/, LOGIN_CODE);
    await t.answer(/Two-step verification password \(hint: the usual\)/, 'wrong');
    await t.answer(/That password is wrong; try again\./, ACCOUNTS.guarded.password);
    expect(await t.exited).toBe(0);
    const session = /TELEGRAM_SESSION=(1[A-Za-z0-9+/=]+)/.exec(t.output())![1]!;
    expect(sessionState(session)).toEqual({ phone: ACCOUNTS.guarded.phone, stage: 'done' });
    expect(t.output()).toContain('Signed in as @guarded (user 1002)');
    // The password typed is never shown.
    expect(t.output()).not.toContain(ACCOUNTS.guarded.password);
    expect(count('sendCode')).toBe(1);
    expect(count('close')).toBe(count('open'));
  });
});
