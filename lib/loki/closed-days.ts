import pLimit, { type LimitFunction } from 'p-limit';
import { groupBy } from '../dora/collections';
import { logger } from '../logger';
import { daysOfMonth, type RollupStore } from '../rollups/store';
import { isoDay, monthStartOf } from '../time';
import { type DayCache, type DayEvents, eventCount } from './day-cache';
import type { EventBudget } from './event-budget';
import type { EventPredicate } from './logql';

/**
 * Where the Loki reader finds closed days before asking Loki: the container's memory (`DayCache`), then
 * the store of closed days (ROLLUPS_URL, lib/rollups/store.ts), which outlives containers. A closed day
 * read from Loki is kept in both. The store is never needed for an answer: when it fails or is slow the
 * days are read from Loki as without it, with a warning, and the request goes on.
 *
 * A filtered request (a team, repositories, services) first looks for the days of the whole service
 * namespace, the organisation's selection that the backfill and the scheduled roll-up fill, and narrows
 * them in memory with `eventPredicate` (lib/loki/logql.ts, next to the LogQL it mirrors); only the days
 * the namespace lacks are looked up under the request's own selection, then read from Loki.
 * Why this layout, for the access patterns of issue 20 (the organisation's year, a team's year or `/data`,
 * a few repositories' quarter; 300 to 5,000 repositories):
 * - One object per namespace-day serves every filter: a year is 365 GETs (760 with a summary's
 *   look-arounds) whoever asks, and one backfill of the organisation answers every team, repository and
 *   service. Objects per repository-day would multiply the organisation's GETs by the repositories
 *   (300 repositories: 228,000 for a summary; 5,000: 3.8 million, ~$1.50 and minutes a cold summary) to
 *   save bytes only filtered requests read, while a GET costs a round trip whatever its size.
 * - Narrowing is cheap beside a GET: one predicate per event, measured 0.02-0.03 ms a day at 300
 *   repositories (~870 events a day), ~1 ms a day at 5,000 (~14,500 events; 0.3-0.5 s a year). What
 *   costs is decoding the events a filter then drops; a month object is in sections by what a filter
 *   reads (store.ts, MONTH_LAYOUT), so a filtered request decodes only its sections of a month.
 * - The namespace is the one of SERVICE_NAME: a deployment reads one. Several would each keep their own
 *   objects (the namespace is in the selection, so in the key), and a request over several would be the
 *   union of their days, day by day; nothing in the layout needs to change for that.
 * - Write-through keeps today's rule: a filtered request that read days from Loki writes them under its
 *   own selection. Its query read only its streams, so it cannot write a namespace day; writing nothing
 *   would read those days from Loki again at its next cold start (12-14 s a team-year at 300
 *   repositories), and reading the namespace's streams instead would cost ~8 times the Loki work (~107 s
 *   a year: a 504). Its own objects are read only while the namespace's day is absent, so they stop
 *   mattering once the backfill or the scheduled roll-up has stored that day.
 * - Days are written one object each: that keeps a write idempotent and atomic without a
 *   read-modify-write (write-through, the scheduled roll-up and a backfill may write the same month at
 *   once). Complete closed months are then copied into one object each by the fill (lib/rollups/compact.ts),
 *   and a request needing at least half of a month reads that one object: a cold year is 13 GETs instead
 *   of 365. Measured with `npm run bench -- --rollups --simulate=300` (s3rver on the same 2 cores): each
 *   GET cost the reader ~1.3 ms of the SDK's CPU, ~0.5 s of a cold year's `/metrics`, before any round trip.
 */

/** Where one request's days came from, for the X-Rollups header and the request's log line. */
export interface DaySources {
  /** Closed days found in memory, in the store, and read from Loki. */
  memory: number;
  store: number;
  loki: number;
  /** Days not closed yet (or only partly inside the request): always read from Loki, never kept. */
  open: number;
  /** Of the days from memory and the store, those narrowed from the namespace's days (a filtered request). */
  namespace: number;
  /** Closed days written to the store by this request (none after a failed read: the store is skipped). */
  stored: number;
  /** Store reads or writes that failed or took too long (the days then came from Loki, or stay unstored). */
  storeFailures: number;
  /** Whether a store is configured at all (ROLLUPS_URL is not `off`). */
  storeEnabled: boolean;
}

export function noDaySources(storeEnabled: boolean): DaySources {
  return { memory: 0, store: 0, loki: 0, open: 0, namespace: 0, stored: 0, storeFailures: 0, storeEnabled };
}

/**
 * The store's objects are small (a day of one selection, ~1-50 kB gzipped): many at once is what makes a
 * year (365-790 days) quick, while staying far below S3's 5,500 GET/s per prefix.
 */
const STORE_CONCURRENCY = 32;
/**
 * Month objects are 30 days each (1 MB at 300 repositories, 17 MB at 5,000) and decoding is the reader's
 * own CPU, one at a time: a few at once keep the network busy without holding many months' bytes at once.
 */
const MONTH_CONCURRENCY = 6;
/**
 * Months decoded at once take at most 1 / MONTH_HEADROOM of the request's event budget: the rest is for
 * the days the request keeps.
 */
const MONTH_HEADROOM = 4;
/**
 * A store that has answered none of a request's reads for this long is taken as unavailable, and the days
 * not read yet come from Loki. Measured from the last answer, not the first read: a cold year of a large
 * organisation reads from a healthy store for longer than this (5,000 repositories: ~35 days a second),
 * and Loki could not read those days in the time left anyway.
 */
const STORE_IDLE_MS = 5_000;
/** Share of the time left before a request's deadline that the store may take, leaving Loki the rest. */
const STORE_DEADLINE_SHARE = 2 / 3;
/** Longest wait for write-through at the end of a request: the answer does not wait longer for the store. */
const STORE_WRITE_BUDGET_MS = 3_000;

/**
 * A compacted month is read instead of its days when the request needs at least half of them: decoding the
 * days it does not need costs less than the GETs it saves (a GET's round trip and ~1 ms of the SDK's CPU,
 * a day's decoding ~1.5 ms at 300 repositories).
 */
const MONTH_READ_MIN_SHARE = 0.5;

/** The months of `dayStarts` worth reading whole, each with the days of it that are asked for. */
function monthsWorthReading(dayStarts: readonly number[]): Array<[number, number[]]> {
  return [...groupBy(dayStarts, monthStartOf)].filter(
    ([monthStart, days]) => days.length >= daysOfMonth(monthStart).length * MONTH_READ_MIN_SHARE,
  );
}

const TIMED_OUT = Symbol('timed out');

/**
 * `promise`, or TIMED_OUT once nothing has progressed for `idleMs` (`lastProgressAt` says when something
 * last did) or `capMs` have passed in all.
 */
function whileProgressing<T>(
  promise: Promise<T>,
  idleMs: number,
  capMs: number,
  lastProgressAt: () => number,
): Promise<T | typeof TIMED_OUT> {
  const startedAt = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const stalled = new Promise<typeof TIMED_OUT>((resolve) => {
    const check = () => {
      const due = Math.min(lastProgressAt() + idleMs, startedAt + capMs);
      const now = Date.now();
      if (now >= due) resolve(TIMED_OUT);
      else timer = setTimeout(check, due - now);
    };
    check();
  });
  return Promise.race([promise, stalled]).finally(() => clearTimeout(timer));
}

function within<T>(promise: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
    timer = setTimeout(() => resolve(TIMED_OUT), Math.max(0, ms));
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The store's name of a selection: the LogQL query and the settings that decide which of its lines become
 * which events (the memory cache needs only the query: it lives in one reader, built from one set of settings).
 * The backfill names the days it writes the same way, so the read path finds them.
 */
export function storeSelection(
  query: string,
  settings: { productionEnvironments?: readonly string[] | undefined; incidentLabels: readonly string[] },
): string {
  const production = settings.productionEnvironments?.length
    ? [...new Set(settings.productionEnvironments.map((name) => name.toLowerCase()))].sort()
    : null;
  const incidentLabels = [...new Set(settings.incidentLabels)].sort();
  return JSON.stringify({ query, production, incidentLabels });
}

/**
 * The namespace's days, which serve a filtered request narrowed (see the top of this file): the
 * namespace's selection in memory and in the store, and the request's filter over its events.
 */
export interface NamespaceDays {
  memoryKey: string;
  storeKey: string;
  /** The filter's predicate (undefined: it keeps every event), by which month objects skip sections. */
  keep: EventPredicate | undefined;
  narrow(day: DayEvents): DayEvents;
}

export class ClosedDays {
  // Reads and writes queue apart: one request's write-through never holds up another's reads.
  private readonly reads = pLimit(STORE_CONCURRENCY);
  private readonly monthReads = pLimit(MONTH_CONCURRENCY);
  private readonly writes = pLimit(STORE_CONCURRENCY);

  constructor(
    private readonly memory: DayCache | undefined,
    private readonly store: RollupStore | undefined,
  ) {}

  /** Whether closed days are kept anywhere (a request cut by its deadline then resumes where it stopped). */
  get keeps(): boolean {
    return this.memory !== undefined || this.store !== undefined;
  }

  get storeEnabled(): boolean {
    return this.store !== undefined;
  }

  /**
   * The kept days among `dayStarts`: memory first, then the store (whose days memory then keeps too).
   * `memoryKey` and `storeKey` name the selection in each (the store's key also holds what parsing depends on).
   * With `namespace` (a filtered request), each place is asked for the namespace's day first, narrowed,
   * then for the request's own; memory keeps the namespace's day whole, for every other filter.
   * Reading stops once the days found hold more events than `limits.budget` allows (the caller then
   * answers its 422): a year of a large organisation would otherwise fill the heap before it is refused.
   */
  async lookup(
    memoryKey: string,
    storeKey: string,
    dayStarts: readonly number[],
    sources: DaySources,
    limits: { deadline: number | undefined; budget: EventBudget },
    namespace?: NamespaceDays,
  ): Promise<Map<number, DayEvents>> {
    const { deadline, budget } = limits;
    const found = new Map<number, DayEvents>();
    const missing: number[] = [];
    for (const dayStart of dayStarts) {
      const whole = namespace && this.memory?.get(namespace.memoryKey, dayStart);
      const day = whole !== undefined && namespace !== undefined ? namespace.narrow(whole) : undefined;
      if (day !== undefined) sources.namespace += 1;
      const kept = day ?? this.memory?.get(memoryKey, dayStart);
      if (kept === undefined) {
        missing.push(dayStart);
        continue;
      }
      found.set(dayStart, kept);
      if (!budget.takeDay(eventCount(kept), found.size, dayStarts.length)) break;
    }
    sources.memory += found.size;
    const store = this.store;
    if (store === undefined || missing.length === 0 || budget.exceeded) return found;

    const startedAt = Date.now();
    const cap =
      deadline === undefined ? Number.POSITIVE_INFINITY : (deadline - startedAt) * STORE_DEADLINE_SHARE;
    let lastAnswerAt = startedAt;
    let failure: unknown;
    let stopped = false;
    /**
     * `whole`: the namespace's whole day, narrowed here and kept whole in memory for every other filter;
     * `narrowed`: the namespace's day already narrowed (the wanted sections of a month), kept in memory
     * as the request's own day, which it is; `own`: a day of the request's own selection.
     */
    const keepFromStore = (dayStart: number, read: DayEvents, kind: 'whole' | 'narrowed' | 'own') => {
      let day = read;
      if (kind === 'whole' && namespace !== undefined) {
        day = namespace.narrow(read);
        this.memory?.set(namespace.memoryKey, dayStart, read);
      } else {
        this.memory?.set(memoryKey, dayStart, read);
      }
      if (kind !== 'own') sources.namespace += 1;
      found.set(dayStart, day);
      sources.store += 1;
      if (!budget.takeDay(eventCount(day), found.size, dayStarts.length)) stopped = true;
    };
    const guarded = (read: () => Promise<void>, limit = this.reads) =>
      limit(async () => {
        if (stopped || failure !== undefined) return;
        try {
          await read();
          lastAnswerAt = Date.now();
        } catch (error) {
          failure ??= error;
        }
      });
    // The namespace's compacted months first (its own months for a request of the whole namespace), then
    // the days they did not hold, one object each: the namespace's day, narrowed, else the request's own.
    const monthKey = namespace?.storeKey ?? storeKey;
    /** Events of the largest month decoded so far (of the sections read). */
    let monthEvents = 0;
    const readMonth = (
      [monthStart, days]: [number, number[]],
      limit: LimitFunction = this.monthReads,
    ): Promise<void> =>
      guarded(async () => {
        // A filtered request decodes only the sections of the month its filter keeps.
        const month = await store.getMonth(monthKey, monthStart, namespace?.keep);
        if (month === undefined || stopped) return;
        let decoded = 0;
        for (const day of month.values()) decoded += eventCount(day);
        monthEvents = Math.max(monthEvents, decoded);
        const kind = namespace === undefined ? 'own' : namespace.keep === undefined ? 'whole' : 'narrowed';
        for (const dayStart of days) {
          const day = month.get(dayStart);
          if (day !== undefined) keepFromStore(dayStart, day, kind);
        }
      }, limit);
    // The first month alone: its events tell the budget what the request will hold, and how many months
    // may be decoded at once (at 5,000 repositories a month is ~435,000 events: six at once, ~2.6 million,
    // would fill a 1,024 MB heap).
    const readMonths = async () => {
      const [first, ...others] = monthsWorthReading(missing);
      if (first === undefined) return;
      await readMonth(first);
      const atOnce = Math.max(
        1,
        Math.min(MONTH_CONCURRENCY, Math.floor(budget.max / (MONTH_HEADROOM * Math.max(1, monthEvents)))),
      );
      const limit = pLimit(atOnce);
      await Promise.all(others.map((month) => limit(() => readMonth(month))));
    };
    const readDays = () =>
      Promise.all(
        missing
          .filter((dayStart) => !found.has(dayStart))
          .map((dayStart) =>
            guarded(async () => {
              const whole = namespace && (await store.get(namespace.storeKey, dayStart));
              if (stopped) return;
              if (whole !== undefined) return keepFromStore(dayStart, whole, 'whole');
              const events = await store.get(storeKey, dayStart);
              if (events === undefined || stopped) return;
              keepFromStore(dayStart, events, 'own');
            }),
          ),
      );
    const reads = readMonths().then(readDays);
    const outcome = await whileProgressing(reads, STORE_IDLE_MS, cap, () => lastAnswerAt);
    // Days that arrive after this are not used (the request asks Loki for them); those that came are.
    if (outcome === TIMED_OUT) stopped = true;
    if (budget.exceeded) return found;
    if (outcome === TIMED_OUT || failure !== undefined) {
      sources.storeFailures += 1;
      const stalled = Date.now() - lastAnswerAt >= STORE_IDLE_MS;
      logger.warn('Closed-day store unavailable; reading those days from Loki', {
        store: store.description,
        reason:
          outcome !== TIMED_OUT
            ? errorText(failure)
            : stalled
              ? `no answer for ${STORE_IDLE_MS} ms`
              : `not done within ${Math.round(cap)} ms, its share of the time left`,
        daysFromStore: sources.store,
        daysMissing: missing.length - sources.store,
      });
    }
    return found;
  }

  /**
   * Keeps a closed day read from Loki: in memory at once, in the store in the background. `pending`
   * collects the write, for `settle` at the end of the request; a failed write is counted, never thrown.
   */
  keep(
    memoryKey: string,
    storeKey: string,
    dayStart: number,
    events: DayEvents,
    sources: DaySources,
    pending: Array<Promise<void>>,
  ): void {
    this.memory?.set(memoryKey, dayStart, events);
    const store = this.store;
    // A store that just failed this request's reads would only hold up its answer with writes.
    if (store === undefined || sources.storeFailures > 0) return;
    pending.push(
      this.writes(() => store.set(storeKey, dayStart, events)).then(
        () => {
          sources.stored += 1;
        },
        (error: unknown) => {
          sources.storeFailures += 1;
          logger.warn('Closed day not written to the store', {
            store: store.description,
            day: isoDay(dayStart),
            reason: errorText(error),
          });
        },
      ),
    );
  }

  /**
   * Waits for the request's writes to the store, a bounded time: a Lambda function is frozen once it has
   * answered, so writes still running then would only finish on its next request (or never).
   */
  async settle(pending: Array<Promise<void>>): Promise<void> {
    if (pending.length === 0) return;
    const outcome = await within(Promise.all(pending), STORE_WRITE_BUDGET_MS);
    if (outcome === TIMED_OUT)
      logger.warn('Closed days still being written to the store when the answer was ready', {
        store: this.store?.description,
        writes: pending.length,
      });
  }
}

/**
 * `X-Rollups: memory=0 store=365 loki=0 open=1` (plus `namespace=N` when N of the days from memory and the
 * store were the namespace's, narrowed to the request's filter; `stored=N`; `fallback` when the store failed).
 */
export function rollupsHeaderValue(sources: DaySources | undefined): string | undefined {
  if (sources === undefined) return undefined;
  const counts = `memory=${sources.memory} store=${sources.storeEnabled ? sources.store : 'off'} loki=${sources.loki} open=${sources.open}`;
  const namespace = sources.namespace > 0 ? ` namespace=${sources.namespace}` : '';
  const stored = sources.stored > 0 ? ` stored=${sources.stored}` : '';
  return `${counts}${namespace}${stored}${sources.storeFailures > 0 ? ' fallback' : ''}`;
}

/**
 * The X-Rollups header of an answer built from these fetch stats, when they say where the days came from;
 * none for an answer from the cache, which read no day.
 */
export function rollupsHeaders(loaded: {
  cached: boolean;
  stats?: { days?: DaySources | undefined } | undefined;
}): Record<string, string> {
  if (loaded.cached) return {};
  const value = rollupsHeaderValue(loaded.stats?.days);
  return value === undefined ? {} : { 'X-Rollups': value };
}
