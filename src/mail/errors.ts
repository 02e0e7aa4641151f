/*
 * What an SMTP failure means, in plain words with the fix, and whether trying again can help.
 * nodemailer's errors carry `code` (ECONNECTION, ETIMEDOUT, ESOCKET, EDNS, ETLS, EAUTH,
 * EENVELOPE, EMESSAGE, EPROTOCOL...; nodemailer's lib/errors), the system error in
 * `originalCode` (ECONNREFUSED...), the server's reply in `response` and `responseCode`, and the
 * SMTP command in `command`. Reply codes: RFC 5321 §4.2.1 (4yz transient, 5yz permanent).
 */
import { describeServer, type MailSettings } from './settings.js';

/** The shape of a nodemailer error, as far as we read it. */
export interface SmtpErrorLike {
  message?: string;
  code?: string;
  originalCode?: string;
  response?: string;
  responseCode?: number;
  command?: string;
  timeoutType?: string;
}

export interface MailFailure {
  /** Retrying cannot help (a 5xx reply about the message or its recipients): fail the job now. */
  permanent: boolean;
  /** What happened and what to do about it, in one or two sentences. */
  description: string;
}

/** The server's reply, on one line. */
function reply(e: SmtpErrorLike): string {
  return (e.response ?? '').replace(/\s+/g, ' ').trim();
}

/**
 * Explains `error` for `settings`. Permanent only for a 5xx reply to MAIL FROM, RCPT TO or DATA
 * (the address or the message is refused, and will be again); a 5xx to AUTH (wrong credentials)
 * and a 530 "authentication required" to MAIL FROM (no login set) are retried, so mail queued
 * while the login is wrong or missing goes out once it is fixed and the workers restart.
 */
export function classifyMailError(error: unknown, settings: MailSettings): MailFailure {
  const e = (error ?? {}) as SmtpErrorLike;
  const server = describeServer(settings);
  const code = e.code ?? '';
  const system = e.originalCode ?? code;
  const answer = reply(e);
  const transient = (description: string): MailFailure => ({ permanent: false, description });
  const credentials =
    settings.source === 'MAIL_URL'
      ? 'the user and password in MAIL_URL'
      : 'MAIL_USERNAME and MAIL_PASSWORD';

  if (code === 'EAUTH' || code === 'ENOAUTH') {
    if (code === 'ENOAUTH' || !settings.username)
      return transient(
        `${server} asks for a login, and none is set: set ${credentials}. (${e.message ?? ''})`,
      );
    // nodemailer refuses to log in with a user and no password before asking the server
    // ('Missing credentials for "PLAIN"'): the server never saw it, so do not blame it.
    if (!settings.password)
      return transient(
        `Cannot log in to ${server}: a user is set and no password; set ${settings.source === 'MAIL_URL' ? 'the password in MAIL_URL (smtp://user:password@host)' : 'MAIL_PASSWORD'}.`,
      );
    return transient(
      `${server} refused the login${answer ? ` (${answer})` : ''}: check ${credentials}.`,
    );
  }
  if (e.responseCode === 530 && /STARTTLS|\bTLS\b/i.test(answer))
    return transient(
      `${server} wants TLS first (${answer}): set MAIL_ENCRYPTION=starttls, or tls on its TLS port.`,
    );
  if (e.command === 'MAIL FROM' && authRequired(e.responseCode, answer)) {
    // Before any recipient: the server wants a login first (RFC 4954 §6, 530 5.7.0). Retried
    // like a refused login, so mail queued before the login is set goes out once it is.
    if (!settings.username)
      return transient(
        `${server} asks for a login, and none is set: set ${credentials}. (${answer || e.message})`,
      );
    return transient(
      `${server} asks for a login (${answer || e.message}), though ${credentials} are set: it did not offer AUTH on this connection; it may offer it only over TLS (check MAIL_ENCRYPTION).`,
    );
  }
  if (system === 'ECONNREFUSED')
    return transient(
      `Nothing accepts connections at ${settings.host}:${settings.port} (ECONNREFUSED): check the host and port in ${settings.source === 'MAIL_URL' ? 'MAIL_URL' : 'MAIL_HOST and MAIL_PORT'}, and that the mail server runs.`,
    );
  if (code === 'EDNS' || system === 'ENOTFOUND' || system === 'EAI_AGAIN')
    return transient(
      `The host ${settings.host} could not be resolved (${system}): check ${settings.source === 'MAIL_URL' ? 'MAIL_URL' : 'MAIL_HOST'}.`,
    );
  if (code === 'ETIMEDOUT' && /greeting/i.test(e.message ?? '')) {
    const fix =
      settings.encryption === 'tls'
        ? `MAIL_ENCRYPTION is tls (TLS from the first byte, port 465) but the server may expect plain text and STARTTLS (port 587): try MAIL_ENCRYPTION=starttls, or port 465`
        : settings.port === 465
          ? `port 465 expects TLS from the first byte: set MAIL_ENCRYPTION=tls (or use smtps://)`
          : `this usually means TLS on a STARTTLS port or the reverse (465 is TLS from the start, 587 is STARTTLS: set MAIL_ENCRYPTION to match the port), or a firewall that lets the connection through but not the traffic`;
    return transient(
      `${server}: the connection opened, but the server's greeting never came within ${settings.timeoutMs / 1000}s. ${capital(fix)}.`,
    );
  }
  if (code === 'ETIMEDOUT')
    return transient(
      `${server} did not answer within ${(e.timeoutType === 'SOCKET_TIMEOUT' ? 3 : 1) * (settings.timeoutMs / 1000)}s${e.timeoutType ? ` (${e.timeoutType})` : ''}: check the host and port, and that no firewall drops the connection.`,
    );
  if (
    code === 'ETLS' ||
    /wrong version number|ssl3_get_record|packet length too long/i.test(e.message ?? '')
  )
    return transient(
      `${server}: the TLS handshake failed (${tlsReason(e.message ?? code)}). ${
        settings.encryption === 'tls'
          ? 'The server may speak plain text first (STARTTLS, port 587): try MAIL_ENCRYPTION=starttls.'
          : settings.encryption === 'starttls' &&
              !/certificate|self.signed|CERT_/i.test(e.message ?? '')
            ? 'The server may not offer STARTTLS: use its TLS port (465, MAIL_ENCRYPTION=tls), or MAIL_ENCRYPTION=none on a trusted network.'
            : 'Check that the server’s certificate is valid for the host name, and trusted (NODE_EXTRA_CA_CERTS for a private CA).'
      }`,
    );
  if (/certificate|self.signed|CERT_|unable to verify/i.test(e.message ?? ''))
    return transient(
      `${server}: the server's certificate is not trusted (${e.message}). Use the host name the certificate names, or trust its CA with NODE_EXTRA_CA_CERTS.`,
    );
  if (e.responseCode !== undefined && e.responseCode >= 500 && e.responseCode < 600) {
    const what =
      e.command === 'MAIL FROM'
        ? 'refused the sender'
        : e.command === 'RCPT TO'
          ? 'refused the recipient'
          : 'refused the message';
    const permanent =
      e.command === 'MAIL FROM' ||
      e.command === 'RCPT TO' ||
      e.command === 'DATA' ||
      e.command === undefined;
    return {
      permanent,
      description: `${server} ${what}: ${answer || e.message} (a permanent refusal; sending again will not help).`,
    };
  }
  if (e.responseCode !== undefined && e.responseCode >= 400 && e.responseCode < 500)
    return transient(
      `${server} deferred the message: ${answer || e.message} (temporary: a later attempt may get through).`,
    );
  if (code === 'ECONNECTION' || code === 'ESOCKET' || system === 'ECONNRESET' || system === 'EPIPE')
    return transient(`${server}: the connection failed (${e.message ?? code}).`);
  return transient(`${server}: ${e.message ?? String(error)}`);
}

/**
 * A reply that asks for a login: 530 (RFC 4954 §6: "530 5.7.0 Authentication required"), or a
 * 5.7.0/5.7.1 enhanced status (RFC 3463) whose text speaks of authentication, as some servers
 * answer MAIL FROM with 550 or 553 instead.
 */
function authRequired(code: number | undefined, answer: string): boolean {
  if (code === 530) return true;
  return (
    code !== undefined &&
    code >= 500 &&
    code < 600 &&
    /\b5\.7\.[01]\b/.test(answer) &&
    /auth/i.test(answer)
  );
}

/** OpenSSL's reason in words: its raw line is long and names source files. */
function tlsReason(message: string): string {
  if (/wrong version number|packet length too long|ssl3_get_record/i.test(message))
    return 'the server answered in plain text, not TLS';
  return message.split('\n')[0]!.trim();
}

function capital(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
