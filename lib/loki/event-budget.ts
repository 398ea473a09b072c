import { getHeapStatistics } from 'node:v8';
import { HttpError } from '../errors';

/**
 * How many events one request may hold. A request keeps every event of its period until its records and
 * metrics are built, so past what the function's heap holds it would end in V8's out-of-memory crash: a
 * dropped connection, a bare 502 from API Gateway and a cold start for the next request. Simulated with
 * 5,000 repositories (`npm run bench -- --rollups --simulate`), the organisation's year summary needs
 * about 8 million events and crashed a 1,024 MB function that way. The request now stops reading once its
 * events pass the budget and answers a 422 saying what to ask for instead, as an answer too large for
 * Lambda does (lib/http/response-size.ts).
 */

/**
 * Heap per event at the peak of a summary: the day objects (~400 bytes an event, lib/loki/day-cache.ts),
 * the request's batch, its records and metrics. Measured with the simulation at 300 repositories: an
 * organisation-year summary of 502,038 events peaked at 341-425 MB of RSS, ~90 MB of which the bundle
 * and the SDK take before any event.
 */
const PEAK_BYTES_PER_EVENT = 700;
/**
 * The share of the heap a request's events may take; the rest is for the answer cache, the day cache's
 * other days, the SDK's buffers and the garbage of decoding. With three quarters, a refused 5,000-repository
 * organisation-year summary had reached 1,025 MB of RSS in a 1,024 MB function and took 14 s to its 422;
 * with half (and the extrapolation below), 492 MB and 5.3 s.
 */
const REQUEST_HEAP_SHARE = 0.5;
/**
 * A request whose first days, extrapolated to all it needs, would hold more than this many times its
 * budget is refused at once rather than once it has read up to the budget (seconds later, at 5,000
 * repositories). The margin covers an organisation busier in its first days than in the rest.
 */
const PROJECTION_MARGIN = 2;
/** Days read before the first days are extrapolated: a month, so weekends and busy weeks even out. */
const PROJECTION_MIN_DAYS = 28;

/** The budget of a function with this heap limit (V8's, which Lambda sets from the memory setting). */
export function defaultMaxRequestEvents(heapLimitBytes = getHeapStatistics().heap_size_limit): number {
  return Math.floor((heapLimitBytes * REQUEST_HEAP_SHARE) / PEAK_BYTES_PER_EVENT);
}

export class RequestTooLargeError extends HttpError {
  override name = 'RequestTooLargeError';

  /** `estimate`: the events the whole request would hold, extrapolated from its first days. */
  constructor(
    readonly maxEvents: number,
    readonly estimate?: number,
  ) {
    const count = (n: number) => Math.round(n).toLocaleString('en-US');
    const need =
      estimate === undefined
        ? `more than ${count(maxEvents)} events at once, more than this function's memory holds`
        : `about ${count(estimate)} events at once (extrapolated from its first days), and this function's memory holds ${count(maxEvents)}`;
    super(
      422,
      `This request needs ${need}: ask for a team, fewer repositories or a shorter period (or give the function more memory)`,
    );
  }
}

/** The events one request holds so far, against its budget. */
export class EventBudget {
  private held = 0;
  private projection: number | undefined;

  constructor(readonly max: number) {}

  /** Counts `count` more events held. */
  take(count: number): void {
    this.held += count;
  }

  /**
   * Counts one more day's events, of the `daysNeeded` a request reads; false once the request holds
   * more than its budget, or once its days so far, extrapolated, would hold far more (PROJECTION_MARGIN).
   */
  takeDay(count: number, daysHeld: number, daysNeeded: number): boolean {
    this.held += count;
    const projection = (this.held / daysHeld) * daysNeeded;
    if (daysHeld >= PROJECTION_MIN_DAYS && projection > this.max * PROJECTION_MARGIN)
      this.projection = projection;
    return !this.exceeded;
  }

  get exceeded(): boolean {
    return this.projection !== undefined || this.held > this.max;
  }

  /** Throws the 422 when the budget is exceeded. */
  check(): void {
    if (this.exceeded) throw new RequestTooLargeError(this.max, this.projection);
  }
}
