/**
 * When the page asks again: only after the API's 504 saying Loki did not answer before the request deadline.
 * The function instance that answered it keeps the days it finished reading (lib/loki/day-cache.ts), so the
 * next request, usually served by the same warm instance, reads only the days still missing: a window
 * bigger than one request's worth of Loki work loads in a few. Every other failure (4xx, 502, another 504,
 * no answer at all) is shown at once, as asking again would only repeat it.
 */

import { LOKI_DEADLINE } from '../../lib/loki/deadline';

/** Attempts of one read in all: the first and up to three more. */
export const READ_ATTEMPTS = 4;

/** How far the store of closed days is, from a 503 problem's `store` (lib/http/errors.ts StoreFillingError). */
export interface StoreProgress {
  daysPresent: number;
  daysNeeded: number;
  etaSeconds: number;
}

/** An answer that is not 2xx: its status and the problem JSON's `detail` (as ApiError holds them). */
export interface FailedAnswer {
  status: number;
  detail: string;
  /** The 503 of a store being filled: how far it is. */
  store?: StoreProgress | undefined;
  /** `Retry-After`, in seconds, when the answer had one. */
  retryAfterSeconds?: number | undefined;
}

/** Which attempt is under way, for the part's status line; `store` while the store is being filled. */
export interface Retry {
  attempt: number;
  attempts: number;
  store?: StoreProgress;
}

/**
 * Asking again while the store fills: after the answer's Retry-After (within these bounds), for as long as
 * each answer shows more days present; this many answers in a row without progress and the error shows.
 */
const FILL_WAIT_MIN_S = 2;
const FILL_WAIT_MAX_S = 60;
export const FILL_STALLS_ALLOWED = 3;

export function isLokiDeadline(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { status, detail } = error as Partial<FailedAnswer>;
  return status === 504 && typeof detail === 'string' && detail.startsWith(LOKI_DEADLINE);
}

/** The API's 503 while the days a request needs are being filled into the store in the background. */
export function storeFilling(error: unknown): StoreProgress | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { status, store } = error as Partial<FailedAnswer>;
  return status === 503 && store !== undefined ? store : undefined;
}

function wait(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/**
 * `read`, asked again while it fails with the Loki deadline 504, up to READ_ATTEMPTS in all, and while
 * the store is being filled (503 with progress) after each Retry-After, for as long as the store moves;
 * `onRetry` hears of each new attempt before it starts. An aborted read (a filter change) is never asked again.
 */
export async function continueAfterLokiDeadline<T>(
  read: () => Promise<T>,
  options: { signal: AbortSignal; onRetry: (retry: Retry) => void; waitMs?: (seconds: number) => number },
): Promise<T> {
  let deadlines = 1;
  let stalls = 0;
  let present = -1;
  for (;;) {
    try {
      return await read();
    } catch (error) {
      if (options.signal.aborted) throw error;
      const store = storeFilling(error);
      if (store !== undefined) {
        stalls = store.daysPresent > present ? 0 : stalls + 1;
        present = Math.max(present, store.daysPresent);
        if (stalls >= FILL_STALLS_ALLOWED) throw error;
        const after = (error as FailedAnswer).retryAfterSeconds ?? FILL_WAIT_MIN_S;
        const seconds = Math.min(FILL_WAIT_MAX_S, Math.max(FILL_WAIT_MIN_S, after));
        options.onRetry({ attempt: deadlines, attempts: READ_ATTEMPTS, store });
        await wait(options.waitMs ? options.waitMs(seconds) : seconds * 1000, options.signal);
        if (options.signal.aborted) throw error;
        continue;
      }
      if (deadlines >= READ_ATTEMPTS || !isLokiDeadline(error)) throw error;
      deadlines += 1;
      options.onRetry({ attempt: deadlines, attempts: READ_ATTEMPTS });
    }
  }
}
