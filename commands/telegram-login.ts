import { resolve } from 'node:path';
import { setInEnvironment } from '../src/config/dotenv-file.js';
import { pathToFileURL } from 'node:url';
import { globals, newCommand } from '../src/cli/command.js';
import { interactive } from '../src/cli/confirm.js';
import { paint, printJson } from '../src/cli/output.js';
import { parseEnv, readEnvironment } from '../src/config/env.js';
import { JobsmithError } from '../src/errors.js';
import { maskValues, redact } from '../src/logging/redact.js';
import { sessionFingerprint } from '../src/channels/lease.js';
import { login, loginSettings, type LoginClientFactory } from '../src/channels/login.js';
import { loginAnswers } from '../src/channels/login-answers.js';
import { writeSessionToEnv } from '../src/channels/login-env.js';
import { PENDING_FILE, pendingFile } from '../src/channels/login-pending.js';

interface Options {
  phone?: string;
  code?: string;
  password?: string;
  writeEnv?: string | boolean;
  json?: boolean;
  config?: string;
  verbose?: boolean;
}

/**
 * Test-only hook: JOBSMITH_TEST_LOGIN_DOUBLE names a module whose `loginClient` (a
 * LoginClientFactory) replaces GramJS, since the real MTProto cannot run in tests
 * (test/doubles/channels/login.ts, loaded through jiti as configs are). Not for production use.
 */
async function clientFactory(): Promise<LoginClientFactory> {
  const double = process.env.JOBSMITH_TEST_LOGIN_DOUBLE;
  if (!double) return (await import('../src/channels/login-gramjs.js')).gramjsLoginClient;
  const { createJiti } = await import('jiti');
  const loaded = (await createJiti(import.meta.url).import(
    pathToFileURL(resolve(double)).href,
  )) as {
    loginClient?: LoginClientFactory;
  };
  if (typeof loaded.loginClient !== 'function')
    throw new JobsmithError(`JOBSMITH_TEST_LOGIN_DOUBLE=${double} exports no loginClient.`, {
      hint: 'Unset JOBSMITH_TEST_LOGIN_DOUBLE: it is for jobsmith’s own tests.',
    });
  return loaded.loginClient;
}

const note = (line: string) => process.stderr.write(`${redact(line)}\n`);

export default function command() {
  return newCommand(
    'telegram:login',
    'Sign a Telegram user account in (phone, code, 2FA password) and print the TELEGRAM_SESSION line for .env',
    'run telegram:login --phone +4915123456789 --write-env',
  )
    .option('--phone <number>', 'the account’s phone number, international format (+4915123456789)')
    .option(
      '--code <digits>',
      'the login code Telegram sent (continues the sign-in the run before started)',
    )
    .option(
      '--password <password>',
      'the two-step verification password (TELEGRAM_PASSWORD in the environment keeps it out of shell history)',
    )
    .option(
      '--write-env [file]',
      'write TELEGRAM_SESSION into .env (or FILE) instead of printing it',
    )
    .option(
      '--json',
      'print {"session", "user", "fingerprint"} as JSON (with --write-env: "envFile" instead of "session")',
    )
    .addHelpText(
      'after',
      '\nOn a terminal it asks for what no flag gives: the phone, the code Telegram sends (in the\n' +
        'Telegram app, else by SMS) and the two-step verification password if the account has one.\n' +
        'It never asks without a terminal: there the first run (--phone) sends the code and stops\n' +
        `with exit 2 naming --code, keeping the sign-in in ${PENDING_FILE} (owner-only, removed\n` +
        'when the sign-in ends); run the same command with --code added (and --password if asked)\n' +
        'to finish it. A code only works with the run that had it sent.\n' +
        '\nThe session is a secret (whoever has it reads Telegram as this account): it is printed\n' +
        'only on stdout, as TELEGRAM_SESSION=..., or written with --write-env; messages and logs\n' +
        'mask it. Use it in one process at a time. TELEGRAM_API_ID and TELEGRAM_API_HASH come from\n' +
        'https://my.telegram.org/apps. Exit 0 signed in; 1 Telegram refused (wrong code or password,\n' +
        'flood wait...) or was unreachable; 2 a bad flag or a missing answer without a terminal.\n',
    )
    .action(async (opts: Options) => {
      globals(opts);
      const cwd = process.cwd();
      const raw = readEnvironment(cwd);
      const env = parseEnv({
        TELEGRAM_API_ID: raw.TELEGRAM_API_ID,
        TELEGRAM_API_HASH: raw.TELEGRAM_API_HASH,
      });
      const settings = loginSettings(env);
      const password = opts.password ?? (process.env.TELEGRAM_PASSWORD || undefined);
      if (password) maskValues([password]);
      const answers = loginAnswers({ phone: opts.phone, code: opts.code, password }, interactive());
      const result = await login({
        settings,
        clientOf: await clientFactory(),
        answers,
        pending: pendingFile(cwd),
        tell: note,
      });
      maskValues([result.session]);
      const who = `${result.user.username ? `@${result.user.username}` : (result.user.firstName ?? 'the account')} (user ${result.user.id})`;
      const fingerprint = sessionFingerprint(result.session);

      if (opts.writeEnv !== undefined && opts.writeEnv !== false) {
        const file = resolve(cwd, typeof opts.writeEnv === 'string' ? opts.writeEnv : '.env');
        try {
          writeSessionToEnv(file, result.session);
        } catch (error) {
          // The account is signed in now: losing the session would leave a login nobody holds.
          process.stdout.write(`TELEGRAM_SESSION=${result.session}\n`);
          throw error;
        }
        if (opts.json) return printJson({ envFile: file, user: result.user, fingerprint });
        note(`${paint.green('Signed in')} as ${who}.`);
        process.stdout.write(`Wrote TELEGRAM_SESSION (session ${fingerprint}) to ${file}.\n`);
        if (setInEnvironment('TELEGRAM_SESSION'))
          note(
            'TELEGRAM_SESSION is also set in the environment, which wins over .env: change it there too.',
          );
        return;
      }
      if (opts.json) return printJson({ session: result.session, user: result.user, fingerprint });
      note(`${paint.green('Signed in')} as ${who} (session ${fingerprint}).`);
      note(
        'Put the line below in .env (or use --write-env). It is a secret; whoever has it reads Telegram as this account.',
      );
      process.stdout.write(`TELEGRAM_SESSION=${result.session}\n`);
    });
}
