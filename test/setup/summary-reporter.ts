import type { Reporter } from 'vitest/reporters';

type Task = {
  type: string;
  name?: string;
  mode?: string;
  result?: { state?: string; note?: string; duration?: number };
  tasks?: Task[];
};

/** How many of the slowest files the summary names: where the suite's time goes. */
const SLOWEST_SHOWN = 12;

/**
 * Prints one plain closing line, `N passed, N failed, N skipped`, after vitest's own summary,
 * so tools that read a run's last line (CI) can count the tests. Above it, the notes of tests
 * that skipped themselves (`ctx.skip(note)`, e.g. a program that is not installed: see
 * test/helpers/tools.ts), once each, so a skip never goes unexplained; and the slowest files,
 * with their own durations, since the suite's wall time is a budget (well under 15 minutes).
 */
export default class SummaryReporter implements Reporter {
  onFinished(files: Task[] = []): void {
    const count = { passed: 0, failed: 0, skipped: 0 };
    const notes = new Map<string, number>();
    const walk = (task: Task) => {
      if (task.tasks) return task.tasks.forEach(walk);
      if (task.type !== 'test') return;
      const state = task.result?.state;
      if (state === 'pass') count.passed++;
      else if (state === 'fail') count.failed++;
      else {
        count.skipped++;
        const note = task.result?.note;
        if (note) notes.set(note, (notes.get(note) ?? 0) + 1);
      }
    };
    files.forEach(walk);
    const skips = [...notes].map(([note, n]) => `Skipped ${n} test(s): ${note}\n`).join('');
    const slowest = files
      .filter((f) => typeof f.result?.duration === 'number')
      .sort((a, b) => b.result!.duration! - a.result!.duration!)
      .slice(0, SLOWEST_SHOWN)
      .map((f) => `  ${(f.result!.duration! / 1000).toFixed(1).padStart(6)} s  ${f.name}\n`)
      .join('');
    process.stdout.write(
      (slowest ? `\nSlowest files:\n${slowest}` : '') +
        `\n${skips}${count.passed} passed, ${count.failed} failed, ${count.skipped} skipped\n`,
    );
  }
}
