import pLimit from 'p-limit';
import type { TimeRange } from '../dora/types';
import type { EventFilter, EventStore } from '../loki/types';
import { DAY_MS, isoDay, startOfUtcDay } from '../time';
import { compactMonths } from './compact';
import type { RollupStore } from './store';

/**
 * Filling the store of closed days ahead of the requests that need them (`npm run rollups`, the scheduled
 * and the backfill functions). A day is filled by asking the read path's own reader for exactly that day:
 * the reader writes every whole closed day it reads from Loki to the store, so an object written here is
 * the object a request would have written, and a day already in the store is not read from Loki again.
 * One day is one object, written whole: a fill stopped anywhere (Ctrl-C, a crash, Lambda's 15 minutes)
 * leaves only complete days, and the next run skips them.
 */

/** One selection the read paths ask for: the filter of its requests (all three kinds of event). */
export interface FillSelection {
  /** For messages and `status` (`organisation`, `team Payments`). */
  name: string;
  filter: EventFilter;
}

export const ORGANISATION: FillSelection = { name: 'organisation', filter: {} };

export interface FillDependencies {
  /** The read path's reader with the store attached: every whole closed day it reads is written through. */
  events: EventStore;
  /** Where the days are kept: the reader's store. */
  rollups: RollupStore;
  /** The store's name of a selection, as the reader names it (its query for all three kinds, and more). */
  selectionKey(filter: EventFilter): string;
  /**
   * The namespace's own selection (the organisation's, `ORGANISATION`): the reader narrows its days to
   * any filter (lib/loki/closed-days.ts), so they count as present for every selection.
   */
  namespaceKey?: string | undefined;
  /** Epoch ms before which every day has closed (nothing can be written into it any more). */
  closedBefore: number;
}

export interface FillOptions {
  /** First day (epoch ms, any time of the day). */
  from: number;
  /** Last day, included; default the last closed day. */
  to?: number | undefined;
  selections: readonly FillSelection[];
  /** Days read from Loki at once. */
  concurrency: number;
  /** Read every day from Loki again and overwrite what is stored (history in Loki was corrected). */
  rebuild?: boolean;
  /**
   * Compact every complete closed month of the stored days, not only those of the range: months whose
   * days requests stored (write-through) are complete without a fill having run over them.
   */
  compactStoredMonths?: boolean;
  signal?: AbortSignal | undefined;
  /** No new day starts after this epoch ms (days in flight still finish); the report says what is left. */
  stopStartingAt?: number | undefined;
  /** Epoch ms after which no Loki request starts (a day in flight then fails the fill with a 504). */
  deadline?: number | undefined;
  onProgress?: (progress: FillProgress) => void;
}

export interface FillProgress {
  /** Days of every selection in the range. */
  total: number;
  /** Already in the store when the run began (skipped). */
  present: number;
  /** Read and stored by this run. */
  filled: number;
  /** Events read by this run. */
  events: number;
  startedAt: number;
}

export interface FillReport extends FillProgress {
  /** Closed months whose days are now all stored, compacted into one object each by this run (compact.ts). */
  compactedMonths: number;
  /** Days left to fill because `stopStartingAt` came first; 0 when the range is complete. */
  remaining: number;
  /** The first day not yet filled, when some are left. */
  resumeFrom: number | undefined;
  /** The range of closed days this run covered. */
  range: TimeRange;
}

export class FillError extends Error {
  override readonly name = 'FillError';
}

/** `YYYY-MM-DD` as the epoch ms of that UTC day's start; a FillError for anything else. */
export function parseDay(text: string): number {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  const day = match ? Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])) : Number.NaN;
  if (!match || Number.isNaN(day) || isoDay(day) !== text)
    throw new FillError(`not a day (YYYY-MM-DD): ${JSON.stringify(text)}`);
  return day;
}

/** The starts of the closed UTC days from `from`'s day to `to`'s day (both included). */
export function closedDays(from: number, to: number, closedBefore: number): number[] {
  const days: number[] = [];
  for (let day = startOfUtcDay(from); day <= startOfUtcDay(to) && day + DAY_MS <= closedBefore; day += DAY_MS)
    days.push(day);
  return days;
}

/** The last day that has closed before `closedBefore`. */
export function lastClosedDay(closedBefore: number): number {
  return startOfUtcDay(closedBefore) - DAY_MS;
}

/**
 * The days of a selection the store holds in the current format: one listing of the selection's prefix,
 * not one read per day. The objects themselves are validated when a request reads them (an invalid one
 * reads as absent and is read from Loki again).
 */
export async function presentDays(rollups: RollupStore, selection: string): Promise<Set<number>> {
  const days = await rollups.days(selection);
  return new Set(days.map((day) => Date.parse(`${day}T00:00:00Z`)));
}

/**
 * The days a request of `selection` finds in the store: its own and, for another selection than the
 * namespace's, the namespace's (which the reader narrows to the request's filter). Two listings.
 */
export async function servedDays(
  rollups: RollupStore,
  selection: string,
  namespace: string | undefined,
): Promise<Set<number>> {
  const [own, shared] = await Promise.all([
    presentDays(rollups, selection),
    namespace === undefined || namespace === selection ? undefined : presentDays(rollups, namespace),
  ]);
  for (const day of shared ?? []) own.add(day);
  return own;
}

interface Work {
  selection: FillSelection;
  key: string;
  day: number;
}

/**
 * Fills the closed days of [from, to] for every selection. Days are read one per request (a day is one
 * Loki query of 24 hourly sub-queries, paged), `concurrency` at once, oldest first, so an interrupted run
 * leaves a prefix of the range filled and `resumeFrom` says where the rest starts.
 */
export async function fill(deps: FillDependencies, options: FillOptions): Promise<FillReport> {
  const to = options.to ?? lastClosedDay(deps.closedBefore);
  const days = closedDays(options.from, to, deps.closedBefore);
  const range = {
    start: days[0] ?? startOfUtcDay(options.from),
    end: (days.at(-1) ?? startOfUtcDay(options.from) - DAY_MS) + DAY_MS,
  };
  const progress: FillProgress = { total: 0, present: 0, filled: 0, events: 0, startedAt: Date.now() };
  const work: Work[] = [];
  for (const selection of options.selections) {
    const key = deps.selectionKey(selection.filter);
    const present = options.rebuild ? new Set<number>() : await listed(deps, key);
    for (const day of days) {
      progress.total += 1;
      if (present.has(day)) progress.present += 1;
      else work.push({ selection, key, day });
    }
  }
  // Oldest first across selections, so `resumeFrom` holds for every selection.
  work.sort((a, b) => a.day - b.day);
  options.onProgress?.({ ...progress });

  const limit = pLimit(Math.max(1, options.concurrency));
  const started = new Set<Work>();
  const done = new Set<Work>();
  const controller = new AbortController();
  const onAbort = () => controller.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', onAbort, { once: true });
  if (options.signal?.aborted) onAbort();
  try {
    await Promise.all(
      work.map((item) =>
        limit(async () => {
          controller.signal.throwIfAborted();
          if (options.stopStartingAt !== undefined && Date.now() >= options.stopStartingAt) return;
          started.add(item);
          const whole = { start: item.day, end: item.day + DAY_MS };
          const batch = await deps.events.fetchEvents({
            filter: item.selection.filter,
            ranges: { deployments: whole, incidents: whole, merges: whole },
            signal: controller.signal,
            ...(options.deadline === undefined ? {} : { deadline: options.deadline }),
            // The reader then asks Loki even for a stored day, and overwrites its object.
            ...(options.rebuild ? { noCache: true } : {}),
          });
          // The reader never fails a request for the store; a fill that could not store its day has failed.
          if ((batch.stats.days?.storeFailures ?? 0) > 0)
            throw new FillError(
              `the store at ${deps.rollups.description} failed while ${isoDay(item.day)} was being stored (see the log)`,
            );
          done.add(item);
          progress.filled += 1;
          progress.events += batch.deployments.length + batch.incidents.length + batch.merges.length;
          options.onProgress?.({ ...progress });
        }).catch((error: unknown) => {
          // The first failure decides: nothing more starts, and what is in flight is stopped.
          controller.abort(error);
          limit.clearQueue();
          throw error;
        }),
      ),
    );
  } catch (error) {
    throw controller.signal.reason ?? error;
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }

  await checkWritten(
    deps,
    work.filter((item) => done.has(item)),
  );
  const left = work.filter((item) => !done.has(item));
  let compactedMonths = 0;
  for (const selection of options.selections) {
    compactedMonths += await compactMonths(deps.rollups, deps.selectionKey(selection.filter), {
      range: options.compactStoredMonths ? undefined : range,
      closedBefore: deps.closedBefore,
      rewrite: options.rebuild ?? false,
      stopStartingAt: options.stopStartingAt,
    }).catch((error: unknown) => {
      const reason = error instanceof Error ? `: ${error.message}` : '';
      throw new FillError(
        `the store at ${deps.rollups.description} failed while compacting months${reason}`,
        {
          cause: error,
        },
      );
    });
  }
  return {
    ...progress,
    compactedMonths,
    remaining: left.length,
    resumeFrom: left[0]?.day,
    range,
  };
}

async function listed(deps: FillDependencies, key: string): Promise<Set<number>> {
  const { rollups } = deps;
  try {
    return await servedDays(rollups, key, deps.namespaceKey);
  } catch (error) {
    const reason = error instanceof Error ? `: ${error.message}` : '';
    throw new FillError(`the store at ${rollups.description} could not be listed${reason}`, { cause: error });
  }
}

/**
 * Every day read must now be in the store: the reader writes what it reads through, and a store that
 * refused a write (full disk, no permission) must fail the fill, not leave it reporting days it did not keep.
 */
async function checkWritten(deps: FillDependencies, filled: readonly Work[]): Promise<void> {
  const byKey = new Map<string, number[]>();
  for (const item of filled) byKey.set(item.key, [...(byKey.get(item.key) ?? []), item.day]);
  for (const [key, days] of byKey) {
    const present = await listed(deps, key);
    const missing = days.filter((day) => !present.has(day));
    if (missing.length > 0) {
      throw new FillError(
        `${missing.length} day(s) read from Loki are not in the store at ${deps.rollups.description} ` +
          `(first ${isoDay(missing[0] ?? 0)}): the store did not keep what was written`,
      );
    }
  }
}
