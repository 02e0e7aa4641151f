import { accessSync, constants, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { globals, newCommand } from '../src/cli/command.js';
import { paint, printJson, printTable, say } from '../src/cli/output.js';
import type { CheckResult } from '../src/doctor/check.js';
import { runDoctor } from '../src/doctor/run-doctor.js';
import { UsageError } from '../src/errors.js';

const MARK: Record<CheckResult['status'], string> = { ok: '✓', fail: '✗', skip: '–' };

function readableFile(flag: string) {
  return (value: string): string => {
    const file = resolve(value);
    try {
      if (!statSync(file).isFile()) throw Object.assign(new Error(), { code: 'not a file' });
      accessSync(file, constants.R_OK);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
      throw new UsageError(
        `${flag} must be a readable supervisor .conf file, got "${value}" (${code}).`,
      );
    }
    return file;
  };
}

export default function command() {
  return newCommand(
    'doctor',
    'Check configuration, storage, Redis, migrations, logs and supervisor settings',
    'run doctor --supervisor /etc/supervisor/conf.d/jobsmith.conf',
  )
    .option(
      '--supervisor <path>',
      'supervisor conf to check (default: /etc/supervisor/conf.d/jobsmith.conf or examples/supervisor/jobsmith.conf)',
      readableFile('--supervisor'),
    )
    .option('--json', 'print { ok, checks: [{ check, status, detail, fix }] }')
    .addHelpText(
      'after',
      '\nExit 1 when any check fails (✗); – marks a check that does not apply. The database, Redis and the\n' +
        'log folder are tested with a write (rolled back, or removed again); SQLite also with PRAGMA\n' +
        'quick_check, which reads the whole file. docs/operations.md lists every check.\n',
    )
    .action(async (opts) => {
      const checks = await runDoctor(process.cwd(), {
        ...globals(opts),
        supervisor: opts.supervisor,
      });
      const failed = checks.filter((c) => c.status === 'fail');
      if (opts.json) {
        printJson({
          ok: failed.length === 0,
          checks: checks.map((c) => ({ ...c, fix: c.fix ?? null })),
        });
      } else {
        const colour = { ok: paint.green, fail: paint.red, skip: paint.dim };
        await printTable(
          ['', 'Check', 'Result', 'Fix'],
          checks.map((c) => [colour[c.status](MARK[c.status]), c.check, c.detail, c.fix ?? '']),
        );
        say(
          failed.length === 0
            ? paint.green(
                `No problems found (${checks.filter((c) => c.status === 'ok').length} checks passed).`,
              )
            : paint.red(
                `${failed.length} check(s) failed: ${failed.map((c) => c.check).join(', ')}.`,
              ),
        );
      }
      if (failed.length > 0) process.exitCode = 1;
    });
}
