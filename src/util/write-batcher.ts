/**
 * Groups writes that arrive while one is under way: the first item is written at once (no
 * added latency on a quiet queue), the ones that come meanwhile go together in the next write.
 * Each caller's promise settles when its own item is stored. When a batch of several fails,
 * its items are written one by one, so one bad item fails only its own caller.
 */
export class WriteBatcher<T> {
  private pending: T[] = [];
  private waiters: Array<{ resolve: () => void; reject: (error: unknown) => void }> = [];
  private busy = false;

  /** `write` stores every item of a batch, or throws. */
  constructor(private readonly write: (items: T[]) => Promise<void>) {}

  add(item: T): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pending.push(item);
      this.waiters.push({ resolve, reject });
      if (!this.busy) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.busy = true;
    try {
      while (this.pending.length > 0) {
        const items = this.pending;
        const waiters = this.waiters;
        this.pending = [];
        this.waiters = [];
        try {
          await this.write(items);
          for (const w of waiters) w.resolve();
        } catch (error) {
          if (items.length === 1) {
            waiters[0]!.reject(error);
            continue;
          }
          await Promise.all(
            items.map((item, i) =>
              this.write([item]).then(waiters[i]!.resolve, waiters[i]!.reject),
            ),
          );
        }
      }
    } finally {
      this.busy = false;
    }
  }
}
