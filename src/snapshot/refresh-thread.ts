/*
 * The reader of queue-wide state for metrics:serve and the dashboard (run serve), in a worker
 * thread of its own: it opens the app like any command and reads a snapshot (snapshot.ts) every `refreshMs`, from the end of one read to the start of
 * the next, posting each to the main thread. Here because better-sqlite3 answers synchronously:
 * counting a million rows in the main thread would hold every scrape or page request that
 * arrives meanwhile.
 *
 * Messages out: { type: 'snapshot', snapshot } | { type: 'error', error: { name, message, hint } }.
 * Messages in: 'refresh' (read now, unless a read is under way: after a write that changed what
 * it shows), 'stop' (finish the read under way, close the app, end).
 */
import { platform, setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { App } from '../cli/app.js';
import { readSnapshot } from './snapshot.js';

export interface RefreshThreadData {
  cwd: string;
  config?: string;
  connection?: string;
  refreshMs: number;
}

// On a busy machine the reads must not take the CPU from the thread that answers scrapes. On
// Linux a thread's priority is its own (setpriority on "the calling process" sets the calling
// thread's), so this lowers the reader alone; elsewhere it would lower the whole process.
if (platform() === 'linux') {
  try {
    setPriority(19);
  } catch {
    // Not allowed here (a container's seccomp profile): the reads keep the normal priority.
  }
}

const data = workerData as RefreshThreadData;
const port = parentPort!;
let app: App | undefined;
let timer: NodeJS.Timeout | undefined;
let reading: Promise<void> | undefined;
let stopping = false;

async function read(): Promise<void> {
  try {
    app ??= new App(data.cwd, { config: data.config });
    port.postMessage({ type: 'snapshot', snapshot: await readSnapshot(app, data.connection) });
  } catch (error) {
    const e = error as Error & { hint?: string };
    port.postMessage({
      type: 'error',
      error: { name: e?.name ?? 'Error', message: e?.message ?? String(error), hint: e?.hint },
    });
    // A storage that failed may come back: open it afresh next time.
    await app?.close().catch(() => {});
    app = undefined;
  }
}

function tick(): void {
  reading = read().finally(() => {
    reading = undefined;
    if (!stopping) timer = setTimeout(tick, data.refreshMs);
  });
}

port.on('message', (message) => {
  if (message === 'refresh' && !stopping && !reading) {
    clearTimeout(timer);
    tick();
  }
  if (message !== 'stop' || stopping) return;
  stopping = true;
  clearTimeout(timer);
  void (async () => {
    await reading;
    await app?.close().catch(() => {});
    port.close();
  })();
});

tick();
