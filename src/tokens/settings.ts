/*
 * The `tokens` section of the config (where `run purge:tokens` finds the app's refresh tokens),
 * checked when the config loads and resolved with its defaults. Pure: no database here.
 */
import type { TokensConfig } from '../config/define.js';
import { maskValues } from '../logging/redact.js';

export const DEFAULT_TOKENS_TABLE = 'refresh_tokens';
export const DEFAULT_TOKENS_EXPIRES_AT = 'expires_at';

const FIELDS = new Set(['table', 'expiresAt', 'connection']);

/** A plain SQL identifier: quoted by us, but kept simple so messages and docs read the same. */
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;
const IDENTIFIER_HELP = 'letters, digits and _ (not starting with a digit, at most 63)';
const URL_SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;

/** The settings with their defaults applied. */
export interface TokenSettings {
  /** The table as configured, `name` or `schema.name`. */
  table: string;
  expiresAt: string;
  /** A postgres:// URL or an SQLite path; undefined: jobsmith's own storage. */
  connection?: string;
}

/**
 * Checks the config's `tokens` section; `fail` throws the config's error with the problem.
 * Called by loadConfig.
 */
export function checkTokensConfig(value: unknown, fail: (problem: string) => never): void {
  if (value === undefined) return;
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    fail(
      "`tokens` must be an object: { table: 'refresh_tokens', expiresAt: 'expires_at', connection }.",
    );
  const config = value as Record<string, unknown>;
  const unknown = Object.keys(config).filter((k) => !FIELDS.has(k));
  if (unknown.length > 0)
    fail(
      `unknown field ${unknown.map((k) => `"tokens.${k}"`).join(', ')}; the fields are ${[...FIELDS].join(', ')}.`,
    );
  const { table, expiresAt, connection } = config;
  if (table !== undefined) {
    const parts = typeof table === 'string' ? table.split('.') : [];
    if (parts.length < 1 || parts.length > 2 || !parts.every((p) => IDENTIFIER.test(p)))
      fail(
        `tokens.table must be a table name, optionally schema.table, of ${IDENTIFIER_HELP}; got ${JSON.stringify(table)}.`,
      );
  }
  if (expiresAt !== undefined && (typeof expiresAt !== 'string' || !IDENTIFIER.test(expiresAt)))
    fail(
      `tokens.expiresAt must be a column name of ${IDENTIFIER_HELP}; got ${JSON.stringify(expiresAt)}.`,
    );
  if (connection !== undefined) {
    if (typeof connection !== 'string' || connection.trim() === '')
      fail('tokens.connection must be a postgres:// URL or the path of an SQLite file.');
    const text = connection as string;
    if (URL_SCHEME.test(text)) {
      let parsed: URL | undefined;
      try {
        parsed = new URL(text);
      } catch {
        parsed = undefined;
      }
      if (!parsed || !/^postgres(ql)?:$/.test(parsed.protocol))
        fail(
          'tokens.connection must be a postgres:// or postgresql:// URL, or the path of an SQLite file; got another URL.',
        );
      // The URL's password is masked wherever it could be printed from now on.
      if (parsed.password) maskValues([decodeURIComponent(parsed.password)]);
    }
  }
}

/** The `tokens` settings with defaults; the section is checked already (checkTokensConfig). */
export function tokenSettings(config: TokensConfig | undefined): TokenSettings {
  return {
    table: config?.table ?? DEFAULT_TOKENS_TABLE,
    expiresAt: config?.expiresAt ?? DEFAULT_TOKENS_EXPIRES_AT,
    connection: config?.connection,
  };
}

/** True when a `connection` setting is a PostgreSQL URL (else it is an SQLite path). */
export function isPostgresUrl(connection: string): boolean {
  return /^postgres(ql)?:\/\//i.test(connection);
}
