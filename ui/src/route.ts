import { useEffect, useState } from 'preact/hooks';

/**
 * Hash routing (`#/jobs/42?queue=mail`): the server serves one page whatever the path, so the
 * same build works under any base path.
 */
export interface Route {
  /** Path segments: `#/jobs/42` → ['jobs', '42']; `#/` → []. */
  parts: string[];
  query: URLSearchParams;
}

export function parseHash(hash: string): Route {
  const [path = '', search = ''] = hash.replace(/^#/, '').split('?', 2);
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  return { parts, query: new URLSearchParams(search) };
}

/** `#/jobs?queue=mail&state=pending`; empty values are left out. */
export function hrefOf(path: string, query: Record<string, string | undefined> = {}): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value) search.set(key, value);
  const text = search.toString();
  return `#/${path}${text ? `?${text}` : ''}`;
}

export function navigate(path: string, query: Record<string, string | undefined> = {}): void {
  location.hash = hrefOf(path, query);
}

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseHash(location.hash));
  useEffect(() => {
    const update = () => setRoute(parseHash(location.hash));
    addEventListener('hashchange', update);
    return () => removeEventListener('hashchange', update);
  }, []);
  return route;
}
