import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { setInEnvironment } from '../src/config/dotenv-file.js';
import { resolve } from 'node:path';
import { globals, newCommand } from '../src/cli/command.js';
import { paint, say } from '../src/cli/output.js';
import { JobsmithError } from '../src/errors.js';
import { generateKey, withAppKey } from '../src/jobs/encryption/env-file.js';
import { fileProblem, PRIVATE_FILE } from '../src/util/files.js';

export default function command() {
  return newCommand(
    'key:generate',
    'Write a new APP_KEY to .env, the key of encrypted job payloads',
    'run key:generate --show',
  )
    .option('--show', 'print a new key instead of writing it to .env')
    .option(
      '--force',
      'replace an APP_KEY that .env already sets (the old one moves to APP_PREVIOUS_KEYS)',
    )
    .addHelpText(
      'after',
      '\nWrites APP_KEY=base64:... (32 random bytes) to .env in this folder, creating the file\n' +
        '(owner-only) when there is none. An APP_KEY that is already set is kept unless --force is\n' +
        'given: then the old key goes first into APP_PREVIOUS_KEYS, so jobs already sealed with it\n' +
        '(waiting or failed) still open; remove it from there once they are gone. Every process that\n' +
        'dispatches or runs encrypted jobs needs the same APP_KEY. Exit 1 when APP_KEY is set and\n' +
        '--force is not given, when APP_KEY is set in the environment (which wins over .env: change\n' +
        'it there), or when .env cannot be written.\n',
    )
    .action(
      async (opts: { show?: boolean; force?: boolean; config?: string; verbose?: boolean }) => {
        globals(opts);
        const key = generateKey();
        if (opts.show) return say(key);
        const file = resolve(process.cwd(), '.env');
        // The environment wins over .env: a key written there would not apply, and a user who
        // then unset the environment's key to apply it would lose every job sealed with it.
        if (setInEnvironment('APP_KEY')) {
          throw new JobsmithError(
            'APP_KEY is set in the environment, which wins over .env: a key written to .env would not apply; nothing was written.',
            {
              hint: 'Change it where the environment sets it (process manager, secret store): the new key (run key:generate --show) in APP_KEY, the old one added to APP_PREVIOUS_KEYS.',
            },
          );
        }
        const before = existsSync(file) ? readFileSync(file, 'utf8') : undefined;
        const update = withAppKey(before, key, Boolean(opts.force));
        try {
          writeFileSync(file, update.text, { mode: PRIVATE_FILE });
        } catch (error) {
          throw new JobsmithError(`Cannot write ${file}: ${fileProblem(error)}.`, {
            hint: 'Fix the file or its folder, or run key:generate --show and set APP_KEY yourself.',
          });
        }
        say(`${paint.green('Wrote')}  APP_KEY (key ${update.id}) to ${file}`);
        if (update.replacedId && update.keptPrevious)
          say(
            `Moved the old key (${update.replacedId}) to APP_PREVIOUS_KEYS: jobs sealed with it still open. Remove it from there once none is left.`,
          );
        else if (update.keptPrevious === false)
          say(
            'The old APP_KEY was not a valid key, so nothing was sealed with it; it was dropped.',
          );
        say('Restart the workers (run queue:restart) so that they read the new key.');
      },
    );
}
