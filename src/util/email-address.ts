/**
 * Whether `value` holds at least one email address: `ada@example.com`, `Ada <ada@example.com>`,
 * or several of those separated by commas, as nodemailer takes them. A value with no
 * `local@domain` in it at all ("bad", a name without its address) is what this catches: given
 * to nodemailer, it sends with an empty envelope sender, or fails each attempt with "No
 * recipients defined", which no retry can fix. The server judges the rest.
 */
export function hasEmailAddress(value: string): boolean {
  return /[^\s@<>,;"]+@[^\s@<>,;"]+/.test(value);
}

/** What an address must look like, for messages. */
export const EMAIL_ADDRESS_HELP = 'an address like ada@example.com or "Ada <ada@example.com>"';
