import { previousPeriod } from '../dora/summary';
import type { TimeRange } from '../dora/types';
import type { EventKind } from '../loki/logql';
import { DAY_MS, startOfUtcDay } from '../time';

/**
 * What a request reads and from where, decided here and only here; the readers (lib/metrics/handler.ts,
 * lib/data/service.ts, lib/loki/client.ts) carry the plan out. Pure: the same request, settings and now
 * give the same plan. Decisions, with what they cost on the real Loki 3.7.6 (2 cores, default limits):
 * - Look-around, once: `/data` builds the records of its window and reads deployments and merges
 *   LOOKAROUND_DAYS before it (repeats, earlier merges), deployments and incidents as long after it
 *   (fixes, late incidents). `/metrics` needs records from a look-around before its period (earlier
 *   deliverers, failures restored in the period) and reads from there, not a look-around further back:
 *   the period's records are then `/data`'s for it. A year's summary (two periods of 365 days) is 760 days
 *   of Loki, not 790; in 30-day chunks 26 queries, not 27.
 * - Never ahead of now: nothing is stored in the future (Loki refuses entries stamped more than 10 min
 *   ahead), so the look-after of a period ending today stops at now + 15 min.
 * - Closed days: a UTC day whose end is further back than the write path's back-dating and Loki's
 *   out-of-order window (`closedAfterMs`) can no longer change; whole closed days are looked up in the day
 *   cache first and only the days it lacks are read. Days still open are always read from Loki.
 * - Chunks: the days to read, joined where consecutive, cut into pieces of LOKI_MAX_QUERY_LENGTH (Loki's
 *   `max_query_length`, 30d1h by default: a longer query is a 400; 0 is no limit, as in Loki). Fewer,
 *   longer queries are cheaper: a query costs about 1 ms per hourly sub-query before it reads anything
 *   (a 90-day query 2.2-3 s whatever it returns), and a team's year took 12.4 s in 30-day pieces 4 at
 *   once, 16.2 s in 10-day pieces 8 at once. The three kinds of event share one query per chunk.
 * - At once: LOKI_CONCURRENCY chunks (4, Loki's 4 querier workers; more queue). 8 30-day queries at once answered in 0.4-5.4 s, 40 at once had 30 connections closed at
 *   Loki's 30-s write timeout; the client halves this when Loki queues (`AdaptiveLimit` in client.ts).
 */

export { DAY_MS };

/** Entries are never stamped further ahead than this (Loki refuses them: creation_grace_period 10 min). */
export const FUTURE_MS = 15 * 60_000;

export const KINDS: readonly EventKind[] = ['deployments', 'incidents', 'merges'];

/** Each kind's range: merges reach back before the records, incidents and fixes after them. */
export type EventRanges = Record<EventKind, TimeRange>;

export interface PlanSettings {
  /** LOOKAROUND_DAYS in ms. */
  lookaroundMs: number;
  /** LOKI_MAX_QUERY_LENGTH in ms (Loki's `max_query_length`); 0 or less: no limit. */
  maxQueryLengthMs: number;
  /** LOKI_CONCURRENCY: requests in flight at most. */
  concurrency: number;
  /** A day is closed once its end is more than this ago (see `lokiSettingsFrom`). */
  closedAfterMs: number;
}

/** What a route asks for. */
export type ReadAsk =
  /** `/data`: the records of `window`. */
  | { route: 'data'; window: TimeRange }
  /** `/metrics`: a period's metrics. */
  | { route: 'metrics'; period: TimeRange }
  /** `/metrics/summary`: a period and the one of the same length before it. */
  | { route: 'summary'; period: TimeRange };

/** Which records to build, and where deployments and merges are read from. */
export interface RecordsPlan {
  /** Records are built for deployments created in [start, end). */
  records: TimeRange;
  /** Deployments and merges are read from here; merges before `records.start` only join records. */
  readStart: number;
}

/** One UTC day of what is read: its part of the read range, and whether it is closed and whole. */
export interface DayRead {
  dayStart: number;
  range: TimeRange;
  /** Whole and closed: taken from the day cache (or a store) when found there, read and kept otherwise. */
  closed: boolean;
}

export interface ReadPlan {
  /** The kinds asked for (a non-empty range each). */
  kinds: EventKind[];
  /** The smallest range holding every kind's, clipped at now + FUTURE_MS; empty when nothing is read. */
  union: TimeRange;
  days: DayRead[];
  /** The parts of `union` in days still open, joined: always read from Loki. */
  open: TimeRange[];
  /** The Loki queries when no closed day is found in a cache (`chunksToRead` for the others). */
  chunks: TimeRange[];
  /** Requests in flight at most. */
  concurrency: number;
  maxQueryLengthMs: number;
}

/** The records a route needs, and where their events are read from. */
export function recordsPlan(ask: ReadAsk, lookaroundMs: number): RecordsPlan {
  switch (ask.route) {
    case 'data':
      return { records: ask.window, readStart: ask.window.start - lookaroundMs };
    case 'metrics':
    case 'summary': {
      const from = ask.route === 'summary' ? previousPeriod(ask.period).start : ask.period.start;
      const start = from - lookaroundMs;
      return { records: { start, end: ask.period.end }, readStart: start };
    }
  }
}

/** Each kind's range for records in `records` whose deployments and merges are read from `readStart`. */
export function eventRanges(records: TimeRange, readStart: number, lookaroundMs: number): EventRanges {
  return {
    // Earlier deployments tell repeats of a sha apart; later ones fix failures of the window, and
    // incidents of its last deployments close after it.
    deployments: { start: readStart, end: records.end + lookaroundMs },
    incidents: { start: records.start, end: records.end + lookaroundMs },
    // A pull request deployed inside the window may have been merged before it.
    merges: { start: readStart, end: records.end },
  };
}

/** Consecutive ranges of at most `maxLengthMs` covering exactly [start, end); 0 or less: no limit. */
export function splitRange(range: TimeRange, maxLengthMs: number): TimeRange[] {
  if (range.end <= range.start) return [];
  if (maxLengthMs <= 0) return [{ ...range }];
  if (!(maxLengthMs >= 1))
    throw new RangeError(`A Loki query length must be at least 1 ms, not ${maxLengthMs}`);
  const chunks: TimeRange[] = [];
  for (let start = range.start; start < range.end; start += maxLengthMs) {
    chunks.push({ start, end: Math.min(start + maxLengthMs, range.end) });
  }
  return chunks;
}

/** Consecutive day parts joined into ranges. */
function joined(days: readonly DayRead[]): TimeRange[] {
  const ranges: TimeRange[] = [];
  for (const day of days) {
    const last = ranges.at(-1);
    if (last !== undefined && last.end === day.range.start) last.end = day.range.end;
    else ranges.push({ ...day.range });
  }
  return ranges;
}

/** What the Loki reader reads for these ranges at `now`. */
export function readPlan(
  ranges: EventRanges,
  settings: Pick<PlanSettings, 'maxQueryLengthMs' | 'concurrency' | 'closedAfterMs'>,
  now: number,
): ReadPlan {
  const kinds = KINDS.filter((kind) => ranges[kind].start < ranges[kind].end);
  const start = Math.min(...kinds.map((kind) => ranges[kind].start));
  // Nothing is stored in the future: the look-around after a window ending today asks for no days ahead.
  const end = Math.min(Math.max(...kinds.map((kind) => ranges[kind].end)), now + FUTURE_MS);
  const empty = kinds.length === 0 || end <= start;
  const union = empty ? { start: 0, end: 0 } : { start, end };
  const closedBefore = now - settings.closedAfterMs;
  const days: DayRead[] = [];
  if (!empty) {
    for (let dayStart = startOfUtcDay(start); dayStart < end; dayStart += DAY_MS) {
      const range = { start: Math.max(start, dayStart), end: Math.min(end, dayStart + DAY_MS) };
      const whole = range.start === dayStart && range.end === dayStart + DAY_MS;
      days.push({ dayStart, range, closed: whole && range.end <= closedBefore });
    }
  }
  const chunks = joined(days).flatMap((range) => splitRange(range, settings.maxQueryLengthMs));
  return {
    kinds,
    union,
    days,
    open: joined(days.filter((day) => !day.closed)),
    chunks,
    concurrency: settings.concurrency,
    maxQueryLengthMs: settings.maxQueryLengthMs,
  };
}

/** The ranges to read once the closed days in `found` (by their start) are taken from a cache, joined. */
export function missingRanges(plan: ReadPlan, found: ReadonlySet<number>): TimeRange[] {
  return joined(plan.days.filter((day) => !(day.closed && found.has(day.dayStart))));
}

/** The Loki queries once the closed days in `found` are taken from a cache: `missingRanges`, split. */
export function chunksToRead(plan: ReadPlan, found: ReadonlySet<number>): TimeRange[] {
  if (found.size === 0) return plan.chunks;
  return missingRanges(plan, found).flatMap((range) => splitRange(range, plan.maxQueryLengthMs));
}

/** The whole plan of a route's request: its records, each kind's range, and what is read from Loki. */
export function planRequest(
  ask: ReadAsk,
  settings: PlanSettings,
  now: number,
): RecordsPlan & { ranges: EventRanges; read: ReadPlan } {
  const plan = recordsPlan(ask, settings.lookaroundMs);
  const ranges = eventRanges(plan.records, plan.readStart, settings.lookaroundMs);
  return { ...plan, ranges, read: readPlan(ranges, settings, now) };
}
