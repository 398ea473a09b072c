import pLimit from 'p-limit';
import type { TimeRange } from '../dora/types';
import { logger } from '../logger';
import type { DayEvents } from '../loki/day-cache';
import { monthStartOf, nextMonthStart } from '../time';
import { daysOfMonth, type RollupStore } from './store';

/**
 * Compacting a selection's closed months into one object each (the layout is explained in store.ts): a
 * month is written once every one of its days is stored, from those stored days, so it never holds
 * anything the days do not; again when a rebuild rewrote days of it. The fill compacts the months its run
 * touched, after its days are written (lib/rollups/fill.ts); the scheduled roll-up's fill every complete month
 * of the stored days not compacted yet (lib/rollups/jobs.ts), as days stored by requests alone make some.
 */

/** Days of a month read at once to compact it. */
const READ_CONCURRENCY = 8;

export interface CompactOptions {
  /** The months overlapping this range are compacted (when complete); absent: every month of the stored days. */
  range?: TimeRange | undefined;
  /** Epoch ms before which every day has closed. */
  closedBefore: number;
  /** Write the month again even when it is compacted already (its days were rebuilt). */
  rewrite?: boolean;
  /** No month starts after this epoch ms. */
  stopStartingAt?: number | undefined;
}

/** The months of [range.start, range.end), each by its start. */
export function monthsOverlapping(range: TimeRange): number[] {
  const months: number[] = [];
  if (range.end <= range.start) return months;
  for (let month = monthStartOf(range.start); month < range.end; month = nextMonthStart(month))
    months.push(month);
  return months;
}

/** Compacts the complete closed months of `selection` in the range; the number of months written. */
export async function compactMonths(
  rollups: RollupStore,
  selection: string,
  options: CompactOptions,
): Promise<number> {
  const { days, months } = await rollups.contents(selection);
  const stored = new Set(days.map((day) => Date.parse(`${day}T00:00:00Z`)));
  const compacted = new Set(months.map((month) => Date.parse(`${month}-01T00:00:00Z`)));
  const range = options.range ?? { start: Math.min(...stored), end: options.closedBefore };
  let written = 0;
  for (const monthStart of monthsOverlapping(range)) {
    const monthDays = daysOfMonth(monthStart);
    if (nextMonthStart(monthStart) > options.closedBefore) continue;
    if (!monthDays.every((day) => stored.has(day))) continue;
    if (compacted.has(monthStart) && !options.rewrite) continue;
    if (options.stopStartingAt !== undefined && Date.now() >= options.stopStartingAt) break;
    const limit = pLimit(READ_CONCURRENCY);
    const read = await Promise.all(monthDays.map((day) => limit(() => rollups.get(selection, day))));
    const month = new Map<number, DayEvents>();
    for (const [index, events] of read.entries()) {
      const day = monthDays[index];
      if (events !== undefined && day !== undefined) month.set(day, events);
    }
    // A day that did not read back valid (logged by the store) is read from Loki again by the next request
    // that needs it; its month waits for the next fill.
    if (month.size !== monthDays.length) {
      logger.warn('Month not compacted: a stored day of it is not valid', {
        month: new Date(monthStart).toISOString().slice(0, 7),
      });
      continue;
    }
    await rollups.setMonth(selection, monthStart, month);
    written += 1;
  }
  return written;
}
