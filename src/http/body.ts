import type { Context, MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HttpError } from './errors.js';

/** The largest request body a write accepts, in bytes: 1 MiB (a dispatch's payload). */
export const MAX_BODY_BYTES = 1024 * 1024;

/** Refuses a body over MAX_BODY_BYTES with 413, before it is read whole. */
export const limitBody: MiddlewareHandler = bodyLimit({
  maxSize: MAX_BODY_BYTES,
  onError: () => {
    throw new HttpError(413, 'too_large', `The body is over ${MAX_BODY_BYTES} bytes.`);
  },
});

/**
 * The request body parsed as JSON; `fallback` when there is none (an empty body). Not JSON is a
 * 400 that says where it broke.
 */
export async function jsonBody(c: Context, fallback: unknown): Promise<unknown> {
  const text = await c.req.text();
  if (text.trim() === '') return fallback;
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new HttpError(
      400,
      'bad_request',
      `The body is not valid JSON: ${(error as Error).message}. Send JSON (Content-Type: application/json).`,
    );
  }
}
