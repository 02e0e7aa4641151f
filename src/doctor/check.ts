/** One line of `run doctor`. */
export interface CheckResult {
  check: string;
  /** ok ✓, fail ✗ (exit 1), skip – (not applicable, or blocked by an earlier failure). */
  status: 'ok' | 'fail' | 'skip';
  /** What was found. */
  detail: string;
  /** How to fix it, when it failed. */
  fix?: string;
}

export const ok = (check: string, detail: string): CheckResult => ({ check, status: 'ok', detail });
export const fail = (check: string, detail: string, fix: string): CheckResult => ({
  check,
  status: 'fail',
  detail,
  fix,
});
export const skip = (check: string, detail: string): CheckResult => ({
  check,
  status: 'skip',
  detail,
});
