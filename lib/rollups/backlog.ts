import { LokiError } from '../errors';
import { StoreFillingError } from '../http/errors';
import { logger } from '../logger';
import type { EventFilter, EventRequest, EventStore } from '../loki/types';
import { DAY_MS, isoDay } from '../time';
import type { BackgroundFill } from './background';
import { servedDays } from './fill';
import type { RollupStore } from './store';

/**
 * Whether a request reads its missing closed days from Loki itself or answers 503 at once and leaves them
 * to a background fill. Reading more than the deadline allows ends in a 504 after ~27 s of Loki work the
 * caller never sees; a 503 with Retry-After and how far the store is lets the dashboard show progress.
 */

/**
 * What one missing closed day costs a request, read as the read path reads (30-day pieces, 4 at once), on
 * the real Loki 3.7.6 with 2 cores: a year of the 300-repository organisation is ~107 s of Loki work
 * (~300 ms a day); a team's or a few repositories' streams 12-14 s a year (~40 ms a day).
 */
export const ORGANISATION_LOKI_MS_PER_DAY = 300;
export const FILTERED_LOKI_MS_PER_DAY = 40;

/**
 * What one day costs the background fill, which reads a day per query: 2.0-2.3 s for the 300-repository
 * organisation whether 1, 2, 4 or 8 days were read at once (0.43-0.49 days/s, Loki's CPU the limit).
 */
export const FILL_MS_PER_DAY = 2_300;

/** Retry-After stays within these: soon enough to show progress, not so soon as to add load. */
const MIN_RETRY_AFTER_S = 5;
const MAX_RETRY_AFTER_S = 60;

export function lokiMsPerDay(filter: EventFilter): number {
  const filtered =
    (filter.repositories?.length ?? 0) > 0 || (filter.services?.length ?? 0) > 0 || filter.team !== undefined;
  return filtered ? FILTERED_LOKI_MS_PER_DAY : ORGANISATION_LOKI_MS_PER_DAY;
}

export interface BacklogInput {
  /** Starts of the closed days the request needs. */
  needed: readonly number[];
  /** Starts of the days the store holds. */
  present: ReadonlySet<number>;
  /** Time the request has left for Loki. */
  remainingMs: number;
  /** What a missing day costs the request (`lokiMsPerDay`). */
  msPerDay: number;
}

export type BacklogDecision =
  | { kind: 'read'; missing: number }
  | {
      kind: 'fill-first';
      present: number;
      needed: number;
      /** Starts of the missing days, ascending. */
      missing: number[];
      retryAfterSeconds: number;
      /** The background fill's estimate for all missing days. */
      etaSeconds: number;
    };

/** Pure: read what is missing when it fits the time left, otherwise fill first. */
export function backlogDecision(input: BacklogInput): BacklogDecision {
  const missing = input.needed.filter((day) => !input.present.has(day)).sort((a, b) => a - b);
  const readable = Math.floor(Math.max(0, input.remainingMs) / Math.max(1, input.msPerDay));
  if (missing.length <= readable) return { kind: 'read', missing: missing.length };
  const etaSeconds = Math.ceil((missing.length * FILL_MS_PER_DAY) / 1000);
  return {
    kind: 'fill-first',
    present: input.needed.length - missing.length,
    needed: input.needed.length,
    missing,
    retryAfterSeconds: Math.min(MAX_RETRY_AFTER_S, Math.max(MIN_RETRY_AFTER_S, etaSeconds)),
    etaSeconds,
  };
}

/** The closed whole days of [start, end) that end before `closedBefore`. */
export function neededClosedDays(range: { start: number; end: number }, closedBefore: number): number[] {
  const days: number[] = [];
  for (
    let day = Math.ceil(range.start / DAY_MS) * DAY_MS;
    day + DAY_MS <= Math.min(range.end, closedBefore);
    day += DAY_MS
  )
    days.push(day);
  return days;
}

export interface BacklogGuard {
  rollups: RollupStore;
  background: BackgroundFill;
  /** The store's name of a filter's selection (all three kinds, as the read path asks). */
  selectionKey(filter: EventFilter): string;
  /** The namespace's selection, whose days serve every filter (`servedDays` in fill.ts). */
  namespaceKey?: string | undefined;
  /** A day is closed once its end is this far back (the reader's `closedAfterMs`). */
  closedAfterMs: number;
  /**
   * What a missing day costs before this container has measured it; undefined (the default): unknown, so
   * the first request reads and measures. The organisation-wide constants above fit the 300-repository
   * bench organisation on a small Loki, but a 4-repository organisation reads a year in a second: a fixed
   * guess would send every first request of a small organisation to a 503 it does not need.
   */
  initialMsPerDay?: ((filter: EventFilter) => number | undefined) | undefined;
}

type Scope = 'organisation' | 'filtered';

/**
 * How long a measured cost of a day holds. Loki's load changes, and an estimate that has turned pessimistic
 * would otherwise stay: requests answered 503 read nothing from Loki, so nothing would ever correct it.
 */
export const LEARNED_COST_TTL_MS = 10 * 60_000;

function scopeOf(filter: EventFilter): Scope {
  return lokiMsPerDay(filter) === ORGANISATION_LOKI_MS_PER_DAY ? 'organisation' : 'filtered';
}

/**
 * The reader, answering `StoreFillingError` (503) instead of reading more missing closed days than its
 * deadline allows. What a missing day costs is measured in this container (the wall time of requests over
 * the days they read from Loki, averaged); while it is unknown a request reads, and should it end in the
 * deadline's 504 (the days read so far are stored), it answers the 503 instead and the rest is filled in
 * the background. Only requests with a deadline (the API's) that ask for every kind (the read path's
 * selection) are checked; a store that cannot be listed lets the request go on to Loki.
 */
export function withBacklogGuard(events: EventStore, guard: BacklogGuard): EventStore {
  const learned = new Map<Scope, { msPerDay: number; at: number }>();
  const learn = (scope: Scope, msPerDay: number) => {
    const previous = current(scope);
    learned.set(scope, {
      msPerDay: previous === undefined ? msPerDay : (previous + msPerDay) / 2,
      at: Date.now(),
    });
  };
  const current = (scope: Scope): number | undefined => {
    const entry = learned.get(scope);
    return entry !== undefined && Date.now() - entry.at < LEARNED_COST_TTL_MS ? entry.msPerDay : undefined;
  };
  const listed = async (selection: string): Promise<Set<number> | undefined> => {
    try {
      return await servedDays(guard.rollups, selection, guard.namespaceKey);
    } catch (error) {
      logger.warn('Closed-day store not listed; the request reads its days as without it', {
        store: guard.rollups.description,
        reason: error instanceof Error ? error.message : String(error),
      });
      return undefined;
    }
  };
  const fillFirst = async (decision: BacklogDecision, request: EventRequest): Promise<never | undefined> => {
    if (decision.kind !== 'fill-first') return undefined;
    const first = decision.missing[0] ?? 0;
    const last = decision.missing.at(-1) ?? first;
    const name = request.filter.team ? `team ${request.filter.team}` : 'request';
    await guard.background
      .start({ from: isoDay(first), to: isoDay(last), selection: { name, filter: request.filter } })
      .catch((error: unknown) => {
        logger.error('Background fill of closed days not started', {
          reason: error instanceof Error ? error.message : String(error),
        });
      });
    throw new StoreFillingError(
      decision.present,
      decision.needed,
      decision.etaSeconds,
      decision.retryAfterSeconds,
    );
  };

  return {
    async fetchEvents(request: EventRequest) {
      const { ranges, deadline } = request;
      const all = [ranges.deployments, ranges.incidents, ranges.merges];
      if (deadline === undefined || request.noCache || !all.every((range) => range.start < range.end))
        return events.fetchEvents(request);
      const range = { start: Math.min(...all.map((r) => r.start)), end: Math.max(...all.map((r) => r.end)) };
      const needed = neededClosedDays(range, Date.now() - guard.closedAfterMs);
      const selection = guard.selectionKey(request.filter);
      const before = needed.length === 0 ? undefined : await listed(selection);
      if (before === undefined) return events.fetchEvents(request);
      const scope = scopeOf(request.filter);
      const known = current(scope) ?? guard.initialMsPerDay?.(request.filter);
      if (known !== undefined)
        await fillFirst(
          backlogDecision({ needed, present: before, remainingMs: deadline - Date.now(), msPerDay: known }),
          request,
        );

      const startedAt = Date.now();
      try {
        const batch = await events.fetchEvents(request);
        const fromLoki = batch.stats.days?.loki ?? 0;
        // A few days say little: the request's fixed costs would dominate.
        if (fromLoki >= 5) learn(scope, (Date.now() - startedAt) / fromLoki);
        return batch;
      } catch (error) {
        if (!(error instanceof LokiError) || error.statusCode !== 504) throw error;
        const after = await listed(selection);
        if (after === undefined) throw error;
        const storedMeanwhile = needed.filter((day) => after.has(day) && !before.has(day)).length;
        // Nothing stored in the whole deadline says Loki stalled, not what a day costs: a guess from it (the
        // deadline per day) would send every later request to a 503 that a recovered Loki does not need.
        if (storedMeanwhile > 0) learn(scope, (Date.now() - startedAt) / storedMeanwhile);
        await fillFirst(backlogDecision({ needed, present: after, remainingMs: 0, msPerDay: 1 }), request);
        throw error;
      }
    },
  };
}
