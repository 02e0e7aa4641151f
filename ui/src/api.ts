/**
 * Calls to the JSON API, relative to the page's own URL (`./api/...`), so the pages work under
 * any base path and when mounted. Every POST carries the session's CSRF token.
 */

/** An error answer of the API (`{ error: { code, message } }`), or a network failure (status 0). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

type Query = Record<string, string | number | undefined | null>;

let csrfToken = '';

/** Set once GET ./api/session has answered. */
export function setCsrfToken(token: string | undefined): void {
  csrfToken = token ?? '';
}

export function apiUrl(path: string, query: Query = {}): string {
  // Resolved against the document (its hash ignored): /jobs/#/failed → /jobs/api/failed.
  const url = new URL(`api/${path.replace(/^\//, '')}`, new URL('./', location.href));
  for (const [key, value] of Object.entries(query)) {
    if (value !== undefined && value !== null && value !== '')
      url.searchParams.set(key, String(value));
  }
  return url.toString();
}

async function request<T>(method: 'GET' | 'POST', path: string, query: Query, body?: unknown) {
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (method === 'POST') {
    headers['X-CSRF-Token'] = csrfToken;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
  }
  let response: Response;
  try {
    response = await fetch(apiUrl(path, query), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
    });
  } catch (error) {
    throw new ApiError(0, 'network', `The server did not answer (${String(error)}).`);
  }
  const text = await response.text();
  let data: unknown = null;
  try {
    data = text === '' ? null : JSON.parse(text);
  } catch {
    throw new ApiError(response.status, 'bad_response', `Not JSON: ${text.slice(0, 80)}`);
  }
  if (!response.ok) {
    const error = (data as { error?: { code?: string; message?: string } } | null)?.error;
    throw new ApiError(
      response.status,
      error?.code ?? 'http',
      error?.message ?? `HTTP ${response.status}`,
    );
  }
  return data as T;
}

export const getJson = <T>(path: string, query: Query = {}) => request<T>('GET', path, query);

export const postJson = <T>(path: string, body?: unknown, query: Query = {}) =>
  request<T>('POST', path, query, body);
