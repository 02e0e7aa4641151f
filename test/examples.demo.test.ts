/**
 * The README's quick start, `npm run demo` (examples/demo.mjs): the example app's Telegram bot
 * on the fake Bot API, with a real longpoll, workers and scheduled:dispatch on SQLite. Run twice
 * in a row, as a user who tries it again would: each run must answer everything, deliver the
 * reminder no earlier than due, stop every process with exit 0 and leave nothing behind.
 */
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { cliEnv, REPO_ROOT } from './helpers/cli.js';
import { appEnv } from './helpers/env.js';
import { tempDir, type TempDir } from './helpers/services.js';

const DEMO = path.join(REPO_ROOT, 'examples', 'demo.mjs');
const DEMO_TIMEOUT_MS = 90_000;

function runDemo(tmp: string) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    // TMPDIR: the demo's storage folder lands in this test's own temp dir.
    const child = spawn(process.execPath, [DEMO], {
      cwd: REPO_ROOT,
      env: cliEnv(appEnv({ TMPDIR: tmp })),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), DEMO_TIMEOUT_MS);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

let dir: TempDir;
beforeEach(() => {
  dir = tempDir('jobsmith-demo-test-');
});
afterEach(() => dir.cleanup());

it(
  'npm run demo runs the bot end to end, twice in a row',
  async () => {
    for (const round of [1, 2]) {
      const { code, stdout, stderr } = await runDemo(dir.path);
      expect(code, `round ${round}\n${stdout}\n${stderr}`).toBe(0);
      expect(stdout).toContain('bot → Ada: Hi! I echo what you write.');
      expect(stdout).toContain('bot → Ada: You said: hello, bot');
      expect(stdout).toMatch(/bot → Grace: OK, I will remind you at \S+Z\./);
      const due = /due {5}(\d\d:\d\d:\d\d\.\d{3})/.exec(stdout)?.[1];
      const arrived = /arrived (\d\d:\d\d:\d\d\.\d{3})/.exec(stdout)?.[1];
      expect(due && arrived && arrived >= due, `due ${due}, arrived ${arrived}`).toBe(true);
      // The queues are empty at the end, and the fake received the four messages.
      expect(stdout).toMatch(/^telegram-updates +0 +0 +0 +0 +no$/m);
      expect(stdout).toMatch(/^telegram +0 +0 +0 +0 +no$/m);
      expect(stdout).toContain('What the fake Telegram received (4 messages)');
      expect(stdout).toMatch(/sendMessage chat 1002: ⏰ take a break$/m);
      for (const name of ['longpoll', 'updates', 'sender'])
        expect(stdout).toMatch(new RegExp(`^  ${name} +│ (Stopped|Worker stopped)`, 'm'));
      expect(stdout).toContain('Done.');
      // A successful run removes its storage (jiti keeps its cache in TMPDIR too).
      expect(readdirSync(dir.path).filter((name) => name.startsWith('jobsmith-demo-'))).toEqual([]);
    }
  },
  2 * DEMO_TIMEOUT_MS,
);
