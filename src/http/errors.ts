/**
 * Errors of the HTTP API. Every error response is JSON of one shape,
 * `{ "error": { "code": "not_found", "message": "No job 42." } }`, with the status code that
 * fits: 400 a bad query value or body (the message names the parameter), 401 no or a wrong
 * token, 403 a write refused (read-only mode, CSRF), 404 an unknown id or path, 405 a known path
 * with a method it does not take (src/http/methods.ts), 413 a body over
 * the limit, 422 a payload that fails its job's schema, 500 anything unexpected (its message is
 * generic; the details go to the log).
 */
export type HttpErrorStatus = 400 | 401 | 403 | 404 | 405 | 409 | 413 | 415 | 422 | 500 | 503;

export class HttpError extends Error {
  constructor(
    readonly status: HttpErrorStatus,
    /** A stable, machine-readable word: `bad_request`, `not_found`, `read_only`... */
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** The JSON body of an error response. */
export interface ErrorBody {
  error: { code: string; message: string };
}

export function errorBody(code: string, message: string): ErrorBody {
  return { error: { code, message } };
}

/** 400 naming the query parameter, the bad value and what it accepts. */
export function badParam(name: string, value: string, accepts: string): HttpError {
  const shown = value.length > 40 ? `${value.slice(0, 40)}…` : value;
  return new HttpError(400, 'bad_request', `${name}: got "${shown}"; ${accepts}.`);
}

export function notFound(message: string): HttpError {
  return new HttpError(404, 'not_found', message);
}
