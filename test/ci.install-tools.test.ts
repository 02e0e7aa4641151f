/**
 * .ci/install-tools installs every program of test/helpers/tools.json that is not on PATH, and
 * stops with exit 1, naming what is still missing, when it cannot. Run here with a PATH that
 * holds only the commands the script itself uses and a stand-in apt-get that "installs" the
 * programs it is told to (a real install on a clean machine cannot run in a test; it was checked
 * by hand in a throw-away overlay of this machine, see the commit).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { REPO_ROOT } from './helpers/cli.js';
import { tempDir, type TempDir } from './helpers/services.js';
import { TOOLS } from './helpers/tools.js';

const SCRIPT = path.join(REPO_ROOT, '.ci', 'install-tools');
/** What the script runs besides bash builtins, apt-get and sudo. */
const NEEDED = ['node', 'tr', 'sed', 'tee', 'chmod', 'rm', 'env', 'dirname'];
const ALL = Object.keys(TOOLS);
const PACKAGES = [...new Set(Object.values(TOOLS).map((t) => t.package))];
const listed = (commands: string[]) =>
  commands.map((c) => `${c} (${TOOLS[c]!.package})`).join(', ');

let dir: TempDir;
let bin: string;
beforeEach(() => {
  dir = tempDir('jobsmith-install-tools-');
  bin = path.join(dir.path, 'bin');
  spawnSync('mkdir', [bin]);
  for (const command of NEEDED) {
    const found = spawnSync('bash', ['-c', `command -v ${command}`], { encoding: 'utf8' });
    symlinkSync(found.stdout.trim(), path.join(bin, command));
  }
  // Not root: the script goes through sudo; this one just runs the command.
  writeFileSync(path.join(bin, 'sudo'), '#!/bin/bash\nexec "$@"\n', { mode: 0o755 });
});
afterEach(() => dir.cleanup());

/**
 * A stand-in apt-get: logs its arguments (and whether the policy file exists) to apt.log; on
 * `install` it creates the programs listed in PROVIDES and exits INSTALL_EXIT.
 */
function fakeAptGet(provides: string[], installExit = 0): void {
  const log = path.join(dir.path, 'apt.log');
  const policy = path.join(dir.path, 'policy-rc.d');
  writeFileSync(
    path.join(bin, 'apt-get'),
    [
      '#!/bin/bash',
      `echo "$* policy=$([[ -x ${policy} ]] && echo yes || echo no)" >> ${log}`,
      '[[ "$1" == update ]] && exit 0',
      ...provides.map(
        (c) => `printf '#!/bin/sh\\nexit 0\\n' > ${bin}/${c} && chmod +x ${bin}/${c}`,
      ),
      `exit ${installExit}`,
    ].join('\n'),
    { mode: 0o755 },
  );
}

function run() {
  return spawnSync('/bin/bash', [SCRIPT], {
    encoding: 'utf8',
    env: { PATH: bin, POLICY_RC_D: path.join(dir.path, 'policy-rc.d') },
  });
}

describe('.ci/install-tools', () => {
  it('installs the package of every missing program, with services kept from starting', () => {
    fakeAptGet(ALL);
    const result = run();
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toBe(
      `Installing ${PACKAGES.join(' ')} (missing: ${listed(ALL)})\n` +
        `Test tools: installed ${PACKAGES.join(' ')}.\n`,
    );
    expect(readFileSync(path.join(dir.path, 'apt.log'), 'utf8')).toBe(
      'update -qq policy=yes\n' +
        `install -y -qq --no-install-recommends ${PACKAGES.join(' ')} policy=yes\n`,
    );
    expect(existsSync(path.join(dir.path, 'policy-rc.d'))).toBe(false);
    // Everything present now: nothing to do.
    expect(run().stdout).toBe('Test tools: all present.\n');
  });

  it('fails naming every program still missing when the install fails', () => {
    fakeAptGet([], 100);
    const result = run();
    expect(result.status).toBe(1);
    expect(result.stderr).toBe(
      `\nERROR: Could not install: ${listed(ALL)} (apt-get exit 100). Install them, then run again.\n`,
    );
  });

  it('fails naming the programs a successful install did not provide', () => {
    const provided = ALL.filter((c) => c !== 'shellcheck');
    fakeAptGet(provided);
    const result = run();
    expect(result.status).toBe(1);
    expect(result.stderr).toBe(
      `\nERROR: Could not install: ${listed(['shellcheck'])} (apt-get exit 0). Install them, then run again.\n`,
    );
  });

  it('fails, saying what to install, where there is no apt-get', () => {
    const result = run();
    expect(result.status).toBe(1);
    expect(result.stderr).toBe(
      `\nERROR: Missing: ${listed(ALL)}. apt-get is not available here: install ${PACKAGES.join(' ')} yourself, then run again.\n`,
    );
  });
});
