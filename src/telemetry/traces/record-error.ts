import type { Span } from '@opentelemetry/api';
import { redact } from '../../logging/redact.js';
import { ERROR_TYPE } from './attributes.js';
import type { OtelApi } from './carrier.js';

/**
 * Marks `span` failed by `error`: an `exception` event, `error.type`, and an ERROR status. Its
 * message and stack are masked first (src/logging/redact.ts), as in every log line and stored
 * error: a span leaves the process for a tracing backend, and a library's error can hold a bot
 * token or a URL's password.
 */
export function recordError(api: OtelApi, span: Span, error: unknown): void {
  const err = error instanceof Error ? error : new Error(String(error));
  const message = redact(err.message);
  span.recordException({
    name: err.name,
    message,
    ...(err.stack === undefined ? {} : { stack: redact(err.stack) }),
  });
  span.setAttribute(ERROR_TYPE, err.name);
  span.setStatus({ code: api.SpanStatusCode.ERROR, message });
}
