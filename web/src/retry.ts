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

/** An answer that is not 2xx: its status and the problem JSON's `detail` (as ApiError holds them). */
export interface FailedAnswer {
  status: number;
  detail: string;
}

/** Which attempt is under way, for the part's status line. */
export interface Retry {
  attempt: number;
  attempts: number;
}

export function isLokiDeadline(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { status, detail } = error as Partial<FailedAnswer>;
  return status === 504 && typeof detail === 'string' && detail.startsWith(LOKI_DEADLINE);
}

/**
 * `read`, asked again while it fails with the Loki deadline 504, up to READ_ATTEMPTS in all; `onRetry`
 * hears of each new attempt before it starts. An aborted read (a filter change) is never asked again.
 */
export async function continueAfterLokiDeadline<T>(
  read: () => Promise<T>,
  options: { signal: AbortSignal; onRetry: (retry: Retry) => void },
): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await read();
    } catch (error) {
      if (attempt >= READ_ATTEMPTS || options.signal.aborted || !isLokiDeadline(error)) throw error;
      options.onRetry({ attempt: attempt + 1, attempts: READ_ATTEMPTS });
    }
  }
}
