import { DAY_MS, isoDay, monthStartOf, nextMonthStart, startOfUtcDay } from '../time';
import type { EpochMs, TimeRange } from './types';

/**
 * Time buckets of a metric series. All calendar arithmetic is UTC.
 *
 * A bucket is a calendar unit (day, ISO week starting Monday, month) clipped to the requested range.
 * Its `date` is the first day of the calendar unit, even when the range starts later in that unit:
 * a given week or month keeps the same label whatever range is asked for, so series from several
 * requests line up. `start`/`end` are the clipped bounds, which rates (per day) are computed over.
 */

export const INTERVALS = ['daily', 'weekly', 'monthly', 'all'] as const;
export type Interval = (typeof INTERVALS)[number];

export interface Bucket {
  /** `YYYY-MM-DD` of the first day of the calendar unit; null for `all`. */
  date: string | null;
  /** Clipped to the range: inclusive. */
  start: EpochMs;
  /** Clipped to the range: exclusive. */
  end: EpochMs;
}

/** Start of the calendar unit holding `time`. */
function unitStart(time: EpochMs, interval: Exclude<Interval, 'all'>): EpochMs {
  const day = startOfUtcDay(time);
  if (interval === 'daily') return day;
  if (interval === 'weekly') {
    // getUTCDay: Sunday 0 .. Saturday 6; ISO weeks start on Monday.
    const daysSinceMonday = (new Date(day).getUTCDay() + 6) % 7;
    return day - daysSinceMonday * DAY_MS;
  }
  return monthStartOf(day);
}

function nextUnitStart(unit: EpochMs, interval: Exclude<Interval, 'all'>): EpochMs {
  if (interval === 'daily') return unit + DAY_MS;
  if (interval === 'weekly') return unit + 7 * DAY_MS;
  return nextMonthStart(unit);
}

/** Every bucket of the range, in time order, empty ones included. An empty range has no bucket. */
export function bucketsOf(range: TimeRange, interval: Interval): Bucket[] {
  if (range.end <= range.start) return [];
  if (interval === 'all') return [{ date: null, start: range.start, end: range.end }];
  const buckets: Bucket[] = [];
  for (let unit = unitStart(range.start, interval); unit < range.end; unit = nextUnitStart(unit, interval)) {
    const next = nextUnitStart(unit, interval);
    buckets.push({ date: isoDay(unit), start: Math.max(unit, range.start), end: Math.min(next, range.end) });
  }
  return buckets;
}

/** Length of a bucket in days (fractional when the range starts or ends inside a day). */
export function daysIn(bucket: Bucket): number {
  return (bucket.end - bucket.start) / DAY_MS;
}

/**
 * Index of the bucket holding `time`, or -1 outside every bucket. Buckets are contiguous and sorted,
 * so a binary search over their starts is enough.
 */
export function bucketIndexOf(buckets: readonly Bucket[], time: EpochMs): number {
  const first = buckets[0];
  const last = buckets[buckets.length - 1];
  if (!first || !last || time < first.start || time >= last.end) return -1;
  let low = 0;
  let high = buckets.length - 1;
  while (low < high) {
    const middle = (low + high + 1) >> 1;
    if ((buckets[middle] as Bucket).start <= time) low = middle;
    else high = middle - 1;
  }
  return low;
}
