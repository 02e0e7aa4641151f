import { parseEnv, readEnvironment, type Env } from '../config/env.js';
import { findConfigFile, loadConfig, type LoadedConfig } from '../config/load-config.js';
import { checkConnection, openDatabase, type Database } from '../db/connection.js';
import { ensureSchema } from '../db/migrate.js';
import { createLoggers, type Logger, type Loggers } from '../logging/logger.js';
import { maskSecretSettings } from '../logging/secrets.js';
import { usePayloadKeys } from '../jobs/encryption/keys.js';
import { resolve } from 'node:path';
import { JobRegistry } from '../jobs/registry.js';
import { QueueConnections } from '../queue/connections.js';
import { Dispatcher, type DispatchAround } from '../queue/dispatcher.js';
import type { JobTracing } from '../telemetry/traces/index.js';

/** Options every command accepts. */
export interface GlobalOptions {
  /** Path of the config file; JOBSMITH_CONFIG or ./jobsmith.config.ts otherwise. */
  config?: string;
  verbose?: boolean;
}

/**
 * What a command needs from the environment, opened lazily so that a command pays only for
 * what it uses: `run about` never connects, `run migrate` never loads the config file.
 */
export class App {
  readonly env: Env;
  readonly rawEnv: Record<string, string | undefined>;
  private loggers?: Loggers;
  private opened?: Promise<Database>;
  private database?: Promise<Database>;
  private loaded?: Promise<LoadedConfig>;
  private schemaReady?: Promise<Database>;
  private connections?: QueueConnections;
  private jobRegistry?: Promise<JobRegistry>;
  private tracing?: Promise<JobTracing | undefined>;

  constructor(
    readonly cwd: string,
    private readonly options: GlobalOptions = {},
  ) {
    this.rawEnv = readEnvironment(cwd);
    // Before anything can fail or log: the values of secret settings are masked from here on.
    maskSecretSettings(this.rawEnv);
    this.env = parseEnv(this.rawEnv);
    // Encrypted payloads are sealed and opened with APP_KEY and APP_PREVIOUS_KEYS from here.
    usePayloadKeys(this.rawEnv);
    // A config named but missing fails every command, not only those that read the config:
    // `queue:size` would otherwise show another app's queues as if all were well.
    const named = options.config ?? this.rawEnv.JOBSMITH_CONFIG;
    if (named) findConfigFile(cwd, named);
  }

  /** The config file, loaded on first use. */
  config(): Promise<LoadedConfig> {
    // The integrations' sections load with the config, not with every command.
    this.loaded ??= import('../integrations.js').then(({ INTEGRATION_SECTIONS }) =>
      loadConfig(
        this.cwd,
        this.options.config ?? this.rawEnv.JOBSMITH_CONFIG,
        INTEGRATION_SECTIONS,
      ),
    );
    return this.loaded;
  }

  /**
   * Job definitions from the config file, with the built-in jobs of the integrations it uses
   * (src/integrations.ts: Telegram with a `telegram` section, GPT with `gpt` or OPENAI_API_KEY,
   * mail with MAIL_URL, MAIL_HOST or `mail`); an app job of the same name wins. The others'
   * names are kept with what to set up, for a worker that meets one of their jobs.
   */
  registry(): Promise<JobRegistry> {
    this.jobRegistry ??= this.config().then(async ({ config }) => {
      const jobs = [...(config.jobs ?? [])];
      const unconfigured = new Map<string, string>();
      const { INTEGRATION_JOBS } = await import('../integrations.js');
      for (const integration of INTEGRATION_JOBS) {
        if (!integration.used(config, this.env)) {
          for (const name of integration.names) unconfigured.set(name, integration.setup);
          continue;
        }
        const names = new Set(jobs.map((j) => j.name));
        jobs.push(...(await integration.load(this, config)).filter((j) => !names.has(j.name)));
      }
      return new JobRegistry(jobs, unconfigured);
    });
    return this.jobRegistry;
  }

  /** Queue drivers by connection name (QUEUE_CONNECTION by default). */
  queues(): QueueConnections {
    this.connections ??= new QueueConnections({
      env: this.env,
      cwd: this.cwd,
      db: () => this.db(),
      registry: () => this.registry(),
      rateLimits: async () => (await this.config()).rateLimits,
    });
    return this.connections;
  }

  /** Pushes jobs on any connection; traced (a span per store) when TELEMETRY_ENABLED is true. */
  dispatcher(): Dispatcher {
    return new Dispatcher(
      (name) => this.queues().get(name),
      this.env.TELEMETRY_ENABLED ? this.traceDispatch : undefined,
    );
  }

  /**
   * OpenTelemetry tracing (src/telemetry/traces/), loaded on first use when TELEMETRY_ENABLED is
   * true; undefined when it is false, or when @opentelemetry/api is not installed or fails to
   * load (tracesOff says why). Never rejects: a broken telemetry install must not stop jobs from
   * being dispatched or run. Telemetry off loads nothing.
   */
  traces(): Promise<JobTracing | undefined> {
    this.tracing ??= this.env.TELEMETRY_ENABLED
      ? import('../telemetry/traces/index.js')
          .then((m) => m.loadTracing())
          .then(
            (tracing) => {
              if (!tracing) this.tracesOff = '@opentelemetry/api is not installed';
              return tracing;
            },
            (error: unknown) => {
              this.tracesOff = `OpenTelemetry failed to load (${error instanceof Error ? error.message : String(error)})`;
              return undefined;
            },
          )
      : Promise.resolve(undefined);
    return this.tracing;
  }

  /** Why traces are off although TELEMETRY_ENABLED is true, once traces() has resolved. */
  tracesOff?: string;

  private readonly traceDispatch: DispatchAround = async (info, store) => {
    const tracing = await this.traces();
    return tracing ? tracing.aroundDispatch(info, store) : store();
  };

  /** JSON lines to LOG_FILE, and a readable line per log event on stderr when it is a terminal. */
  log(): Logger {
    return this.openLoggers().log;
  }

  /**
   * The same JSON lines to LOG_FILE, never to the terminal: for the events a command prints
   * itself (`run queue:work` renders each job's line), which `log()` would show a second time.
   */
  fileLog(): Logger {
    return this.openLoggers().fileLog;
  }

  private openLoggers(): Loggers {
    this.loggers ??= createLoggers({
      level: this.env.LOG_LEVEL,
      file: resolve(this.cwd, this.env.LOG_FILE),
      pretty: process.stderr.isTTY ? process.stderr : undefined,
    });
    return this.loggers;
  }

  /**
   * The SQL storage, connected and with its schema current (migrated on first use where
   * allowed). `{ migrate: false }` skips the schema check, for the migrate commands themselves.
   */
  db(options: { migrate?: boolean } = {}): Promise<Database> {
    // A failed connection or schema check is tried again on the next call, not cached: a
    // worker started before its database waits for it (src/worker/storage-start.ts).
    this.database ??= forgetFailure(
      this.sql().then(async (db) => {
        await checkConnection(db);
        return db;
      }),
      (failed) => {
        if (this.database === failed) this.database = undefined;
      },
    );
    if (options.migrate === false) return this.database;
    this.schemaReady ??= forgetFailure(
      this.database.then(async (db) => {
        await ensureSchema(db, this.env.MIGRATE_ON_START);
        return db;
      }),
      (failed) => {
        if (this.schemaReady === failed) this.schemaReady = undefined;
      },
    );
    return this.schemaReady;
  }

  /**
   * The SQL storage opened but not connected (knex connects on its first query), for what
   * names it (`dialect`, `describe`) before it answers. One knex for the app's life.
   */
  sql(): Promise<Database> {
    this.opened ??= openDatabase(this.env, this.cwd);
    return this.opened;
  }

  async close(): Promise<void> {
    // Spans still held by the app's provider go out before a one-shot command exits.
    await (await this.tracing)?.flush();
    await this.connections?.close();
    if (this.opened) {
      const db = await this.opened.catch(() => undefined);
      await db?.knex.destroy();
    }
    this.loggers?.log.flush();
    this.loggers?.fileLog.flush();
  }
}

/** `promise`; `forget(promise)` runs when it rejects, so that a cache drops it. */
function forgetFailure<T>(promise: Promise<T>, forget: (failed: Promise<T>) => void): Promise<T> {
  promise.catch(() => forget(promise));
  return promise;
}

/** Opens an App for the current directory, runs `fn`, and always closes it. */
export async function withApp<T>(options: GlobalOptions, fn: (app: App) => Promise<T>): Promise<T> {
  const app = new App(process.cwd(), options);
  try {
    return await fn(app);
  } finally {
    await app.close();
  }
}
