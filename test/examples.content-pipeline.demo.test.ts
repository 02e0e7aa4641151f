/**
 * `npm run demo:pipeline` (examples/content-pipeline/demo.mjs): the content pipeline on the
 * channels double, the fake OpenAI and the fake Bot API, on SQLite. It must collect, rewrite and
 * publish, retry the unusable reply with a notice, fail the long post with one, stop its worker
 * with exit 0 and leave nothing behind.
 */
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { cliEnv, REPO_ROOT } from './helpers/cli.js';
import { appEnv } from './helpers/env.js';
import { tempDir, type TempDir } from './helpers/services.js';

const DEMO = path.join(REPO_ROOT, 'examples', 'content-pipeline', 'demo.mjs');
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
  dir = tempDir('jobsmith-pipeline-demo-test-');
});
afterEach(() => dir.cleanup());

it(
  'npm run demo:pipeline collects, rewrites, publishes, retries and fails as it says',
  async () => {
    const { code, stdout, stderr } = await runDemo(dir.path);
    expect(code, `${stdout}\n${stderr}`).toBe(0);
    expect(stdout).toMatch(
      /→ post \d+ \(@tech_news #1, 1 media\) {2}succeeded\/published {2}"Battery life, doubled"/,
    );
    expect(stdout).toMatch(/→ post \d+ \(@tech_news #2, 2 media\) {2}succeeded\/published/);
    // The channel got the four published posts, in order, as title / text, the caption of their
    // downloaded photos: one photo, an album of two (one media group), a post with the image
    // drawn for it, a text.
    expect(stdout).toContain(
      [
        '  sendPhoto: Battery life, doubled / A new chip lets phones run twice as long on one charge.',
        '  sendMediaGroup (2 items): Launch day / Photos from the launch.',
        '  sendPhoto: Revenue up 12% / The quarter ended with revenue 12% higher than a year ago.',
        '  sendMessage: A wet week / Expect rain every day this week.',
      ].join('\n'),
    );
    expect(stdout).toMatch(
      /"Revenue up 12%": .* \(with image \d+, drawn from "A rising bar chart, flat illustration"\)/,
    );
    expect(stdout).toMatch(/→ post \d+ \(@world_digest #2, 0 media\) .*"A wet week"/);
    expect(stdout).not.toMatch(/→ post \d+ \(@world_digest #1/);
    expect(stdout).toMatch(
      /→ post \d+ \(@world_digest #3, 0 media\) {2}failed\/collected {2}failed: over the model's token limit/,
    );
    expect(stdout).toContain('Requests to the model: 6');
    expect(stdout).toMatch(/^ {2}Post \d+: retrying the rewrite because of a generation error/m);
    expect(stdout).toMatch(/^ {2}Post \d+ \(@world_digest, message 3\) failed: over the model's/m);
    expect(stdout).toMatch(/worker +│ Worker stopped/);
    expect(stdout).toContain('Done.');
    expect(
      readdirSync(dir.path).filter((name) => name.startsWith('jobsmith-pipeline-demo-')),
    ).toEqual([]);
  },
  DEMO_TIMEOUT_MS,
);
