/*
 * Where mail goes: the SMTP server from MAIL_URL, or from MAIL_HOST, MAIL_PORT, MAIL_USERNAME,
 * MAIL_PASSWORD, MAIL_ENCRYPTION, and the sender from MAIL_FROM; plus the config's `mail`
 * section (its queue). Pure: nodemailer is not loaded here, so loading a config never loads it.
 */
import type { ConnectionOptions } from 'node:tls';
import type { Env } from '../config/env.js';
import type { MailConfig } from '../config/define.js';
import { ConfigError } from '../errors.js';
import { queueNameProblem } from '../jobs/limits.js';
import { dirsOf } from '../util/local-files.js';

/**
 * Mail is not configured: no MAIL_URL nor MAIL_HOST. Exit code 3, so a script
 * (`queue_manager.sh test`) can tell "not set up" from "set up and failing" (1).
 */
export class MailNotConfigured extends ConfigError {
  override readonly exitCode = 3;
}

/** Queue of the `mail.send` jobs unless the config names another (`mail.queue`). */
export const DEFAULT_MAIL_QUEUE = 'mail';

/**
 * How the connection is secured. `tls`: TLS from the first byte (port 465, `smtps://`);
 * `starttls`: plain text, then STARTTLS, which the server must offer (587); `none`: never TLS;
 * `auto` (MAIL_ENCRYPTION unset on a port other than 465): STARTTLS when the server offers it.
 */
export type MailEncryption = 'tls' | 'starttls' | 'none' | 'auto';

export interface MailSettings {
  host: string;
  port: number;
  encryption: MailEncryption;
  username?: string;
  password?: string;
  /** The From of messages that name none: an address or `Name <address>`. */
  from?: string;
  /** Connection and greeting timeout in ms (MAIL_TIMEOUT); commands get 3× it. */
  timeoutMs: number;
  /**
   * The folders attachments are read from (MAIL_ATTACHMENT_DIRS, comma-separated; relative ones
   * from the working directory). @defaultValue the worker's working directory
   */
  attachmentDirs?: string[];
  /** Which variables these came from, for messages: `MAIL_URL` or `MAIL_HOST`. */
  source: 'MAIL_URL' | 'MAIL_HOST';
  /** More TLS options (a private CA...), for code that builds settings itself; none from the environment. */
  tls?: ConnectionOptions;
}

const PORTS = { tls: 465, starttls: 587, none: 25, auto: 587 } as const;

/** The variables that configure mail, for messages. */
export const MAIL_VARIABLES =
  'MAIL_URL (smtp://host:587 or smtps://host:465, with user:password@ before the host), or MAIL_HOST with MAIL_PORT, MAIL_USERNAME, MAIL_PASSWORD, MAIL_ENCRYPTION (tls|starttls|none) and MAIL_FROM';

/** True when the environment names an SMTP server (MAIL_URL or MAIL_HOST). */
export function mailConfigured(env: Env): boolean {
  return env.MAIL_URL !== undefined || env.MAIL_HOST !== undefined;
}

/**
 * The SMTP settings of the environment. MAIL_URL wins over MAIL_HOST and MAIL_PORT, MAIL_USERNAME,
 * MAIL_PASSWORD; MAIL_ENCRYPTION and MAIL_FROM apply to both. Without a port: 465 for tls, 25
 * for none, else 587.
 * @throws MailNotConfigured (exit 3) when neither MAIL_URL nor MAIL_HOST is set.
 */
export function mailSettings(env: Env): MailSettings {
  const encryption = (e: Env['MAIL_ENCRYPTION']): MailEncryption | undefined =>
    e === 'ssl' ? 'tls' : e;
  const common = {
    from: env.MAIL_FROM,
    timeoutMs: env.MAIL_TIMEOUT,
    attachmentDirs: dirsOf(env.MAIL_ATTACHMENT_DIRS),
  };
  if (env.MAIL_URL !== undefined) {
    const url = new URL(env.MAIL_URL);
    const chosen =
      encryption(env.MAIL_ENCRYPTION) ?? (url.protocol === 'smtps:' ? 'tls' : undefined);
    const port = url.port ? Number(url.port) : PORTS[chosen ?? 'auto'];
    return {
      host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
      port,
      encryption: chosen ?? (port === 465 ? 'tls' : 'auto'),
      username: url.username ? decodeURIComponent(url.username) : undefined,
      password: url.password ? decodeURIComponent(url.password) : undefined,
      source: 'MAIL_URL',
      ...common,
    };
  }
  if (env.MAIL_HOST === undefined)
    throw new MailNotConfigured(`Mail is not configured: set ${MAIL_VARIABLES}.`);
  const chosen = encryption(env.MAIL_ENCRYPTION);
  const port = env.MAIL_PORT ?? PORTS[chosen ?? 'auto'];
  return {
    host: env.MAIL_HOST,
    port,
    encryption: chosen ?? (port === 465 ? 'tls' : 'auto'),
    username: env.MAIL_USERNAME || undefined,
    password: env.MAIL_PASSWORD || undefined,
    source: 'MAIL_HOST',
    ...common,
  };
}

/** `host:port (encryption)`, for messages. */
export function describeServer(s: MailSettings): string {
  return `${s.host}:${s.port} (${s.encryption === 'auto' ? 'STARTTLS if offered' : s.encryption})`;
}

/** The `mail.send` queue the config names, else the default. */
export function mailQueue(config: MailConfig | undefined): string {
  return config?.queue ?? DEFAULT_MAIL_QUEUE;
}

const FIELDS = new Set(['queue']);

/** Checks the config's `mail` section; `fail` throws the config's error. Called by loadConfig. */
export function checkMailConfig(value: unknown, fail: (problem: string) => never): void {
  if (value === undefined) return;
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    fail("`mail` must be an object: { queue: 'mail' }.");
  const config = value as Record<string, unknown>;
  const unknown = Object.keys(config).filter((k) => !FIELDS.has(k));
  if (unknown.length > 0)
    fail(
      `unknown field ${unknown.map((k) => `"mail.${k}"`).join(', ')}; the fields are ${[...FIELDS].join(', ')}.`,
    );
  if (config.queue !== undefined) {
    const problem = queueNameProblem(config.queue, 'mail.queue');
    if (problem) fail(`${problem}.`);
  }
}
