/**
 * The Bot API's error replies, word for word as api.telegram.org sends them, so client code
 * that matches on `description` (or on `error_code` and `parameters`) behaves here as it will
 * in production.
 */

/** `parameters` of an error reply: the Bot API's ResponseParameters. */
export interface ResponseParameters {
  /** Seconds to wait before the request may be repeated (429 only). */
  retry_after?: number;
  /** The supergroup a group was upgraded to (400 only). */
  migrate_to_chat_id?: number;
}

/** A Bot API failure: the server answers `{ ok: false, error_code, description, parameters? }`. */
export class ApiError extends Error {
  constructor(
    readonly errorCode: number,
    readonly description: string,
    readonly parameters?: ResponseParameters,
  ) {
    super(description);
    this.name = 'ApiError';
  }

  toJSON(): {
    ok: false;
    error_code: number;
    description: string;
    parameters?: ResponseParameters;
  } {
    return {
      ok: false,
      error_code: this.errorCode,
      description: this.description,
      ...(this.parameters ? { parameters: this.parameters } : {}),
    };
  }
}

export const unauthorized = () => new ApiError(401, 'Unauthorized');
export const notFound = () => new ApiError(404, 'Not Found');
export const badRequest = (what: string) => new ApiError(400, `Bad Request: ${what}`);
export const chatNotFound = () => badRequest('chat not found');

/** The reason Telegram gives for a 403; `blocked` is the one a private chat sees most. */
export type ForbiddenReason = 'blocked' | 'deactivated' | 'kicked' | 'not-started';

const FORBIDDEN_TEXT: Record<ForbiddenReason, string> = {
  blocked: 'Forbidden: bot was blocked by the user',
  deactivated: 'Forbidden: user is deactivated',
  kicked: 'Forbidden: bot was kicked from the group chat',
  'not-started': "Forbidden: bot can't initiate conversation with a user",
};

export const forbidden = (reason: ForbiddenReason) => new ApiError(403, FORBIDDEN_TEXT[reason]);

export const migrated = (toChatId: number) =>
  new ApiError(400, 'Bad Request: group chat was upgraded to a supergroup chat', {
    migrate_to_chat_id: toChatId,
  });

/** 429 with `retry_after` in whole seconds, at least 1 (Telegram never says 0). */
export const tooManyRequests = (retryAfterSeconds: number) => {
  const seconds = Math.max(1, Math.ceil(retryAfterSeconds));
  return new ApiError(429, `Too Many Requests: retry after ${seconds}`, { retry_after: seconds });
};

export const webhookActive = () =>
  new ApiError(
    409,
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first",
  );

export const terminatedByOtherPoll = () =>
  new ApiError(
    409,
    'Conflict: terminated by other getUpdates request; make sure that only one bot instance is running',
  );

/** The text a gateway fault carries, for the statuses `failNext` is usually given. */
export function faultDescription(status: number): string {
  const texts: Record<number, string> = {
    500: 'Internal Server Error',
    502: 'Bad Gateway',
    503: 'Service Unavailable',
    504: 'Gateway Timeout',
  };
  return texts[status] ?? `Error ${status}`;
}
