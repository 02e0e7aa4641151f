/*
 * Other modules' work inside `run metrics:serve`, such as evaluating alerts once a minute: a
 * duty has start and stop (the shape of asynq's heartbeater, recoverer...), and metrics:serve
 * starts each once it serves and stops each before it exits. A duty runs on metrics:serve's
 * main thread with the command's App: a long synchronous read there (a big SQLite count) would
 * hold scrapes up, so a duty keeps its storage work short or moves it off the thread.
 */
import type { App } from '../cli/app.js';
import type { Logger } from '../logging/logger.js';

export interface DutyContext {
  app: App;
  log: Logger;
}

export interface ServeDuty {
  /** Shown in logs and in the start-up line. */
  readonly name: string;
  start(context: DutyContext): void | Promise<void>;
  /** Resolves once the duty's work under way has ended. */
  stop(): void | Promise<void>;
}

/**
 * The duties metrics:serve runs, each loaded only there, and only when `load` returns one (an
 * app without alerts configured has nothing to evaluate). A module adds its entry here:
 * `{ name: 'alerts', load: async (app) => (await import('../alerts/duty.js')).alertsDuty(app) }`.
 */
export const METRICS_SERVE_DUTIES: ReadonlyArray<{
  name: string;
  load(app: App): Promise<ServeDuty | undefined>;
}> = [
  // Loaded only here; it returns nothing for an app without alerts in its config.
  {
    name: 'alerts',
    load: async (app) => (await import('../alerts/serve-duty.js')).alertsDuty(app),
  },
];

/**
 * A duty that runs `task` now and then every `everyMs`, counted from the end of one run to the
 * start of the next, so runs never overlap. A run that throws is logged (warn) and the next
 * runs on time. stop() cancels the next run and waits for the one under way.
 */
export function periodic(
  name: string,
  everyMs: number,
  task: (context: DutyContext) => Promise<void>,
): ServeDuty {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let stopped = false;
  return {
    name,
    start(context) {
      stopped = false;
      const run = () => {
        running = task(context)
          .catch((error: unknown) =>
            context.log.warn({ duty: name, error: (error as Error)?.message }, `${name} failed`),
          )
          .finally(() => {
            running = undefined;
            if (!stopped) timer = setTimeout(run, everyMs);
          });
      };
      run();
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
