/**
 * The page talks to the API it is served by, with relative URLs (so it works behind a base path too),
 * and with the bearer token from sessionStorage in the Authorization header: never in a URL, never logged.
 */

import type { StoreProgress } from './retry';

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
    /** A 503 while the store of closed days fills: how far it is (web/src/retry.ts asks again). */
    readonly store?: StoreProgress,
    readonly retryAfterSeconds?: number,
  ) {
    super(status === 0 ? detail : `${detail} (HTTP ${status})`);
    this.name = 'ApiError';
  }
}

function progressOf(value: unknown): StoreProgress | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { daysPresent, daysNeeded, etaSeconds } = value as Record<string, unknown>;
  return typeof daysPresent === 'number' && typeof daysNeeded === 'number' && typeof etaSeconds === 'number'
    ? { daysPresent, daysNeeded, etaSeconds }
    : undefined;
}

async function failure(response: Response, route: string): Promise<ApiError> {
  const fallback = `${response.status} ${response.statusText}`.trim();
  const retryAfter = Number(response.headers.get('retry-after') ?? Number.NaN);
  const retryAfterSeconds = Number.isFinite(retryAfter) ? retryAfter : undefined;
  try {
    const body = (await response.json()) as {
      detail?: unknown;
      message?: unknown;
      title?: unknown;
      store?: unknown;
    };
    const store = progressOf(body.store);
    for (const candidate of [body.detail, body.message, body.title]) {
      if (typeof candidate === 'string' && candidate !== '')
        return new ApiError(response.status, candidate, route, store, retryAfterSeconds);
    }
  } catch {
    // Not JSON (a proxy's page): the status says enough.
  }
  return new ApiError(response.status, fallback, route, undefined, retryAfterSeconds);
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
  if (!response.ok) throw await failure(response, route);
  return (await response.json()) as T;
}
