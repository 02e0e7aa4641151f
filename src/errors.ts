/**
 * Named errors. Every error a user can cause or meet carries the exit code the CLI uses
 * and a hint that says how to fix it; `src/cli/handle-error.ts` is the one place that turns
 * them into output.
 *
 * Exit codes: 0 success, 1 failure at run time, 2 usage error (bad flag or argument).
 */
export class JobsmithError extends Error {
  /** Process exit code the CLI uses for this error. @defaultValue 1 */
  readonly exitCode: number = 1;
  /** One sentence that tells the user what to do about it. */
  readonly hint?: string;

  constructor(message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.hint = options.hint;
  }
}

/** A bad flag, argument or value on the command line. Exit 2. */
export class UsageError extends JobsmithError {
  override readonly exitCode = 2;
}

/** A configuration value (environment, .env or config file) that is missing or wrong. */
export class ConfigError extends JobsmithError {}

/** The database (or Redis) cannot be reached or refused us. */
export class ConnectionError extends JobsmithError {}

/** The schema is not migrated and we were told not to migrate it ourselves. */
export class SchemaError extends JobsmithError {}

/**
 * The storage cannot be used, and waiting will not help: a read-only or corrupt SQLite file, a
 * database file deleted or replaced under a running process, a schema that is missing. A worker
 * stops on it (exit code 14, see src/worker/options.ts) instead of retrying for ever.
 */
export class StorageError extends JobsmithError {}
