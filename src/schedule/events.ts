import type { ResolvedEntry } from './types.js';

/** Events the scheduler emits; commands render them, the scheduler never prints. */
export interface SchedulerEvents {
  /** A slot (or, for schedule:test, a manual run) started its action. */
  'entry:started': [{ entry: ResolvedEntry; slotAt?: number }];
  'entry:finished': [
    { entry: ResolvedEntry; slotAt?: number; ok: boolean; detail: string; durationMs: number },
  ];
  /**
   * The slot was not run: `taken` (another scheduler fired it) or `overlapping` (the previous
   * run still holds the overlap lease).
   */
  'entry:skipped': [
    { entry: ResolvedEntry; slotAt?: number; reason: 'taken' | 'overlapping'; detail: string },
  ];
  /** A running entry's overlap lease expired and was taken: another run may now overlap. */
  'entry:lease-lost': [{ entry: ResolvedEntry }];
  /** schedule:work sleeps until `at`, when `entries` are due. */
  'scheduler:waiting': [{ at: number; entries: string[] }];
  'scheduler:stopping': [];
  /** Storage failed (claiming a slot, recording it); the scheduler keeps going. */
  'scheduler:error': [{ error: Error; during: string }];
}
