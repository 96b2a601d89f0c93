/**
 * Why a model fetch failed, in words a user can act on. A browser reports a CORS refusal and
 * an unreachable server alike, as a bare TypeError ("Failed to fetch"); the difference shows in
 * a second, `no-cors` request to the same URL: the server answering it (an opaque response)
 * means it is reachable and only withholds the Access-Control-Allow-Origin header, while that
 * request failing too means the network (DNS, refused connection, offline) or the page's own
 * Content-Security-Policy stopped it. (Fetch standard, "CORS protocol" and "opaque filtered
 * response".)
 */

export type FetchFailure =
  | { kind: 'http'; status: number; statusText?: string }
  | { kind: 'cors' }
  | { kind: 'network' }
  /** The page's Content-Security-Policy allows other origins over https only (vite.config.ts). */
  | { kind: 'blocked-scheme' };

/** Common HTTP statuses a model host answers with, in plain words. */
const STATUS_WORDS: Record<number, string> = {
  400: 'bad request',
  401: 'the server wants a login',
  403: 'forbidden: the server refuses to share this file',
  404: 'not found: no file at this address',
  410: 'gone',
  429: 'too many requests',
  500: 'server error',
  502: 'bad gateway',
  503: 'service unavailable',
};

/** Why the fetch failed and what to do about it (the caller names the URL). */
export function describeFetchFailure(failure: FetchFailure): string {
  switch (failure.kind) {
    case 'http': {
      const words = STATUS_WORDS[failure.status] ?? failure.statusText ?? '';
      return `HTTP ${failure.status}${words ? ` (${words})` : ''}`;
    }
    case 'cors':
      return `blocked by CORS: the server answers but does not allow other sites to read the file (no Access-Control-Allow-Origin header); download the model and load its files instead`;
    case 'network':
      return `network error: the server could not be reached (wrong host name, server down, or offline)`;
    case 'blocked-scheme':
      return `this lab fetches models from other sites over https only (its Content-Security-Policy); use an https:// address, or download the model and load its files`;
  }
}

/**
 * Tell a CORS refusal from a network failure after `fetch(url)` threw: probe with `no-cors`
 * (see the header). `fetchImpl` is the global fetch in the worker; `pageOrigin` is the lab's.
 */
export async function classifyFetchError(url: URL, pageOrigin: string, fetchImpl: typeof fetch): Promise<FetchFailure> {
  if (url.origin !== pageOrigin && url.protocol !== 'https:') return { kind: 'blocked-scheme' };
  // Same origin: CORS does not apply, so a thrown fetch is the network.
  if (url.origin === pageOrigin) return { kind: 'network' };
  try {
    await fetchImpl(url, { mode: 'no-cors', cache: 'no-store' });
    return { kind: 'cors' };
  } catch {
    return { kind: 'network' };
  }
}
