/*
 * Where an alert's notifications go, as its `notify` strings name them:
 *
 *   telegram:CHAT_ID, telegram:@channel, telegram:BOT:CHAT_ID   → a telegram.send job
 *   mail:ops@example.com                                        → a mail.send job
 *   webhook:https://hooks.slack.com/services/...                → a webhook.post job
 *
 * Pure: loaded with the config.
 */

export type AlertTarget =
  | { type: 'telegram'; text: string; chatId: number | string; bot?: string }
  | { type: 'mail'; text: string; to: string }
  | { type: 'webhook'; text: string; url: string };

export const TARGET_HELP =
  'telegram:CHAT_ID (or telegram:BOT:CHAT_ID), mail:ADDRESS or webhook:https://URL';

const TELEGRAM = /^telegram:(?:([A-Za-z0-9_.-]{1,64}):)?(-?\d{1,20}|@[A-Za-z0-9_]{4,64})$/;
// One address, as nodemailer takes it; lists go in separate targets.
const MAIL = /^mail:([^\s@<>,;]+@[^\s@<>,;]+\.[^\s@<>,;]+)$/;

/** The target `text` names, or a sentence saying what is wrong with it. */
export function parseTarget(text: string): AlertTarget | string {
  const telegram = TELEGRAM.exec(text);
  if (telegram) {
    const chat = telegram[2]!;
    const chatId = chat.startsWith('@') ? chat : Number(chat);
    if (chatId === 0) return `"${text}": a Telegram chat id is never 0`;
    return { type: 'telegram', text, chatId, ...(telegram[1] ? { bot: telegram[1] } : {}) };
  }
  if (text.startsWith('telegram:'))
    return `"${text}" is not a Telegram target; use telegram:CHAT_ID (a whole number, negative for groups), telegram:@channel or telegram:BOT:CHAT_ID`;
  const mail = MAIL.exec(text);
  if (mail) return { type: 'mail', text, to: mail[1]! };
  if (text.startsWith('mail:'))
    return `"${text}" is not a mail target; use mail:ADDRESS with one address (mail:ops@example.com)`;
  if (text.startsWith('webhook:')) {
    const url = text.slice('webhook:'.length);
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return `"${shownTarget(text)}" is not a webhook target; use webhook:https://URL`;
    }
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')
      return `"${shownTarget(text)}": a webhook URL starts with https:// (or http://)`;
    return { type: 'webhook', text, url };
  }
  return `"${shownTarget(text)}" is not a target; use ${TARGET_HELP}`;
}

/**
 * A target as listings and errors show it: a webhook's path and query are left out, since a
 * Slack or Discord webhook URL carries its secret there.
 */
export function shownTarget(text: string): string {
  if (!text.startsWith('webhook:')) return text;
  try {
    const url = new URL(text.slice('webhook:'.length));
    const hidden = url.pathname.length > 1 || url.search !== '';
    return `webhook:${url.origin}${hidden ? '/…' : ''}`;
  } catch {
    return 'webhook:…';
  }
}
