import type { Reporter } from 'vitest/reporters';

type Task = { type: string; mode?: string; result?: { state?: string }; tasks?: Task[] };

/**
 * Prints one plain closing line, `N passed, N failed, N skipped`, after vitest's own summary,
 * so tools that read a run's last line (CI) can count the tests.
 */
export default class SummaryReporter implements Reporter {
  onFinished(files: Task[] = []): void {
    const count = { passed: 0, failed: 0, skipped: 0 };
    const walk = (task: Task) => {
      if (task.tasks) return task.tasks.forEach(walk);
      if (task.type !== 'test') return;
      const state = task.result?.state;
      if (state === 'pass') count.passed++;
      else if (state === 'fail') count.failed++;
      else count.skipped++;
    };
    files.forEach(walk);
    process.stdout.write(
      `\n${count.passed} passed, ${count.failed} failed, ${count.skipped} skipped\n`,
    );
  }
}
