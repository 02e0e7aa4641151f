/*
 * One pooled nodemailer transport per process and server: every `mail.send` job of a worker
 * shares its connections (the pool keeps up to 5 open, each used for up to 100 messages), so a
 * busy worker does not pay a TCP and TLS handshake and a login per message. nodemailer loads
 * here on first use. Timeouts are ours, in seconds, not nodemailer's 2 minutes to connect and
 * 10 minutes of silence on a socket (nodemailer lib/smtp-connection).
 */
import type { Transporter } from 'nodemailer';
import type { MailPayload, SentMail } from './payload.js';
import type { MailSettings } from './settings.js';

/** Connections the pool keeps open at most; nodemailer's default. */
export const POOL_CONNECTIONS = 5;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyTransporter = Transporter<any, any>;

const pooled = new Map<string, Promise<AnyTransporter>>();

/** nodemailer's options for `settings`: `pool` for the worker's shared transport. */
export function transportOptions(settings: MailSettings, pool: boolean) {
  return {
    pool,
    maxConnections: POOL_CONNECTIONS,
    host: settings.host,
    port: settings.port,
    secure: settings.encryption === 'tls',
    requireTLS: settings.encryption === 'starttls',
    ignoreTLS: settings.encryption === 'none',
    auth:
      settings.username !== undefined
        ? { user: settings.username, pass: settings.password ?? '' }
        : undefined,
    connectionTimeout: settings.timeoutMs,
    greetingTimeout: settings.timeoutMs,
    socketTimeout: settings.timeoutMs * 3,
    dnsTimeout: settings.timeoutMs,
    tls: settings.tls,
    // nodemailer would read a `{ href }` attachment from any URL: only files by path here.
    disableUrlAccess: true,
  };
}

function keyOf(settings: MailSettings): string {
  return JSON.stringify({ ...settings, tls: settings.tls ? Object.keys(settings.tls) : null });
}

/** The process's pooled transport for `settings`, made on first use. */
export function pooledTransport(settings: MailSettings): Promise<AnyTransporter> {
  const key = keyOf(settings);
  let transport = pooled.get(key);
  if (!transport) {
    transport = import('nodemailer').then(
      (nodemailer) =>
        nodemailer.createTransport(transportOptions(settings, true)) as AnyTransporter,
    );
    pooled.set(key, transport);
  }
  return transport;
}

/**
 * A transport of its own (not pooled), for one-off sends and checks; close it after use.
 * `forceAuth`: nodemailer's option; with no login set, its verify() then fails with ENOAUTH
 * when the server offers AUTH, instead of passing without a word (smtp-transport verify).
 */
export async function singleTransport(
  settings: MailSettings,
  options: { forceAuth?: boolean } = {},
): Promise<AnyTransporter> {
  const nodemailer = await import('nodemailer');
  return nodemailer.createTransport({
    ...transportOptions(settings, false),
    forceAuth: options.forceAuth ?? false,
  }) as AnyTransporter;
}

/** Closes every pooled transport of the process (a worker's shutdown, tests). */
export async function closePooledTransports(): Promise<void> {
  const all = [...pooled.values()];
  pooled.clear();
  for (const t of await Promise.allSettled(all)) if (t.status === 'fulfilled') t.value.close();
}

/** Sends `payload` through `transport`; rejects with nodemailer's error. */
export async function deliver(
  transport: AnyTransporter,
  settings: MailSettings,
  payload: MailPayload,
): Promise<SentMail> {
  const from = payload.from ?? settings.from;
  const info = (await transport.sendMail({
    from,
    to: payload.to,
    cc: payload.cc,
    bcc: payload.bcc,
    replyTo: payload.replyTo,
    subject: payload.subject,
    text: payload.text,
    html: payload.html,
    attachments: payload.attachments,
  })) as { messageId?: string; response?: string; accepted?: unknown[]; rejected?: unknown[] };
  const text = (list: unknown[] | undefined) =>
    (list ?? []).map((a) =>
      typeof a === 'string' ? a : ((a as { address?: string }).address ?? String(a)),
    );
  return {
    messageId: info.messageId ?? '',
    response: (info.response ?? '').trim(),
    accepted: text(info.accepted),
    rejected: text(info.rejected),
  };
}
