/**
 * The page talks to the API it is served by, with relative URLs (so it works behind a base path too),
 * and with the bearer token from sessionStorage in the Authorization header: never in a URL, never logged.
 */

const TOKEN_KEY = 'dora-api-token';

export function storedToken(): string | null {
  try {
    return sessionStorage.getItem(TOKEN_KEY);
  } catch {
    return null;
  }
}

export function storeToken(token: string | null): void {
  if (token === null) sessionStorage.removeItem(TOKEN_KEY);
  else sessionStorage.setItem(TOKEN_KEY, token);
}

/** An answer other than 2xx, with the API's own words for it (problem `detail`, else `message`). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly route: string,
  ) {
    super(status === 0 ? detail : `${detail} (HTTP ${status})`);
    this.name = 'ApiError';
  }
}

async function problemDetail(response: Response): Promise<string> {
  const fallback = `${response.status} ${response.statusText}`.trim();
  try {
    const body = (await response.json()) as { detail?: unknown; message?: unknown; title?: unknown };
    for (const candidate of [body.detail, body.message, body.title]) {
      if (typeof candidate === 'string' && candidate !== '') return candidate;
    }
  } catch {
    // Not JSON (a proxy's page): the status says enough.
  }
  return fallback;
}

type Query = Record<string, string | undefined>;

export async function callApi<T>(
  method: 'GET' | 'POST',
  route: string,
  options: { query?: Query; body?: unknown; signal?: AbortSignal } = {},
): Promise<T> {
  // Relative to the page: `metrics` from https://host/base/ is https://host/base/metrics.
  const url = new URL(route, document.baseURI);
  for (const [name, value] of Object.entries(options.query ?? {})) {
    // '' is a value (`exclude_authors=` leaves nobody out); undefined leaves the parameter out.
    if (value !== undefined) url.searchParams.set(name, value);
  }
  const headers: Record<string, string> = { accept: 'application/json' };
  const token = storedToken();
  if (token) headers.authorization = `Bearer ${token}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      headers,
      ...(options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } catch (error) {
    if ((error as Error).name === 'AbortError') throw error;
    throw new ApiError(0, `The API did not answer ${method} /${route}`, route);
  }
  if (!response.ok) throw new ApiError(response.status, await problemDetail(response), route);
  return (await response.json()) as T;
}
