/**
 * How the API asks Loki, as measured on a real Loki 3.7.6 with default query settings on 2 cores (README
 * "On a real Loki"). Which days, chunks and how many at once are the request's plan (lib/plan/read-plan.ts);
 * this reader carries it out. The LogQL text is logql.ts's.
 * - Streams: only the requested ones, chosen on index labels (`streamSelector`); a team reads every stream
 *   except other GitHub teams' repositories (LOKI_TEAM_STREAMS). Loki's cost is the chunks it opens: a year
 *   of 300 repositories through a label filter is ~1.4 million chunks, 38-44 s; a team's streams 12-14 s.
 * - Ranges: one query per chunk of the plan for all three kinds at once (`or` of their filters), paged
 *   forward.
 * - At once: the plan's concurrency (LOKI_CONCURRENCY), halved when Loki queues or drops connections
 *   (`AdaptiveLimit`); a slow answer is waited for until the function's deadline.
 * - Cached: the events of the plan's closed days per query (day-cache.ts), so a window asked again reads
 *   only the days it lacks.
 */
import { isAscii } from 'node:buffer';
import { TextDecoder as NodeTextDecoder } from 'node:util';
import ky, { isTimeoutError } from 'ky';
import pLimit, { type LimitFunction } from 'p-limit';
import { type Config, dataCacheShares, requireSetting } from '../config';
import type { DeploymentEvent, IncidentEvent, MergeEvent, TimeRange } from '../dora/types';
import { hostOf, LokiError, networkFailure, unreachable } from '../errors';
import { logger } from '../logger';
import { boundedMemo } from '../memo';
import { type DayRead, KINDS, missingRanges, readPlan, splitRange } from '../plan/read-plan';
import { RollupStore } from '../rollups/store';
import type { Secrets } from '../secrets';
import { openObjectStore } from '../store/open';
import { NS_PER_MS, startOfUtcDay } from '../time';
import { ClosedDays, type DaySources, type NamespaceDays, noDaySources, storeSelection } from './closed-days';
import { DayCache, type DayEntry, type DayEvents, emptyDay, narrowDay } from './day-cache';
import { DEADLINE_MESSAGE, RESUMABLE_DEADLINE_MESSAGE } from './deadline';
import { defaultMaxRequestEvents, EventBudget } from './event-budget';
import {
  buildEventsQuery,
  type EventKind,
  eventPredicate,
  filterLabelNames,
  filterLabels,
  kindsOf,
  type TeamStreams,
} from './logql';
import {
  dedupeIncidents,
  forEachEntry,
  incidentLabelSet,
  type LokiEvent,
  readEntry,
  type StreamEntry,
} from './parse';
import type { EventRequest, EventStore, FetchStats } from './types';

/** Kept for the other readers of ranges (labels, incidents, status): the plan's own splitting. */
export { splitRange } from '../plan/read-plan';

export interface LokiSettings {
  /** Base URL (optionally with a path prefix) or the full `.../loki/api/v1/query_range` URL. */
  url: string;
  user?: string | undefined;
  token?: string | undefined;
  /** Sent as `X-Scope-OrgID` (multi-tenant Loki). */
  tenant?: string | undefined;
  serviceNamespace: string;
  /** Index label holding the repository name (LOKI_REPOSITORY_LABEL); empty: repositories by label filter. */
  repositoryLabel?: string | undefined;
  /** Which streams a team filter reads (LOKI_TEAM_STREAMS). */
  teamStreams?: TeamStreams | undefined;
  /** When given, only deployments to these environments (case-insensitive) are returned. */
  productionEnvironments?: readonly string[] | undefined;
  incidentLabels: readonly string[];
  /** Lines asked per request (`limit`); must not exceed the server's `max_entries_limit_per_query`. */
  pageLimit: number;
  /** Longest time span of one request; longer ranges are split (Loki's `max_query_length`). */
  maxQueryLengthMs: number;
  /** Requests in flight at once for one `fetchEvents` call. */
  concurrency: number;
  timeoutMs: number;
  /**
   * Heap the events of closed days may fill (`DayCache`); 0 or absent keeps none. A day is closed once
   * its end is more than `closedAfterMs` ago (nothing can be written into it any more).
   */
  dayCacheMaxMb?: number | undefined;
  closedAfterMs?: number | undefined;
  /** The store of closed days (ROLLUPS_URL: `s3://` or `file://`); absent: none. */
  rollupsUrl?: string | undefined;
  /** Retries after the first attempt, on 429, 5xx and network errors only. */
  maxRetries: number;
  /** Events one request may hold before it is refused with a 422 (lib/loki/event-budget.ts); default from the heap. */
  maxRequestEvents?: number | undefined;
  /** First retry waits about this long (doubling, with jitter) unless Loki sends Retry-After. */
  retryBaseDelayMs?: number | undefined;
  /** An answer slower than this shows Loki queueing and halves the requests in flight (`AdaptiveLimit`). */
  slowAnswerMs?: number | undefined;
}

export interface LokiRequestInfo {
  /** The kinds of event the request asked for, `+`-joined (`deployments+incidents+merges`). */
  kind: string;
  attempt: number;
  /** HTTP status, or what happened instead of an answer. */
  outcome: number | 'timeout' | 'network-error';
  durationMs: number;
}

export interface LokiHooks {
  /** Called after every HTTP attempt (for metrics); must not throw. */
  onRequest?: (info: LokiRequestInfo) => void;
  sleep?: (ms: number) => Promise<void>;
  /** Called when the requests allowed in flight change (for metrics); must not throw. */
  onConcurrency?: (concurrency: number) => void;
  /** The store of closed days to use instead of the one `rollupsUrl` names (tests). */
  rollups?: RollupStore;
}

const QUERY_RANGE_PATH = '/loki/api/v1/query_range';

/**
 * Longer queries (a team's selector naming the repositories of every other team: ~6 kB for 300
 * repositories) go as a form POST, which Loki accepts on query_range like a GET: proxies in front of Loki
 * refuse long URLs (nginx, as in Loki's Helm chart gateway, answers 414 beyond its 8 kB header buffers).
 */
const MAX_QUERY_STRING_CHARS = 4000;
/** Loki's default `max_entries_limit_per_query`: a page is never grown beyond it. */
const LOKI_MAX_LIMIT = 5000;
const MAX_RETRY_DELAY_MS = 10_000;

/** Splits a base URL from what operators paste (the full query_range URL, a trailing slash, userinfo). */
export function parseLokiUrl(raw: string): { baseUrl: string; user?: string; password?: string } {
  const url = new URL(raw);
  const user = decodeURIComponent(url.username);
  const password = decodeURIComponent(url.password);
  url.username = '';
  url.password = '';
  url.search = '';
  url.hash = '';
  const path = url.pathname.replace(/\/+$/, '');
  const apiAt = path.indexOf('/loki/api/');
  url.pathname = apiAt >= 0 ? path.slice(0, apiAt) : path;
  return {
    baseUrl: url.toString().replace(/\/+$/, ''),
    ...(user ? { user } : {}),
    ...(password ? { password } : {}),
  };
}

export function authorizationHeader(user: string | undefined, token: string | undefined): string | undefined {
  if (token === undefined || token === '') return undefined;
  if (user === undefined || user === '') return `Bearer ${token}`;
  return `Basic ${Buffer.from(`${user}:${token}`).toString('base64')}`;
}

function msToNs(ms: number): string {
  return String(BigInt(Math.floor(ms)) * NS_PER_MS);
}

/** Nanosecond timestamps of the same length compare as text; this also orders shorter (older) ones first. */
function compareNs(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

function retryAfterMs(header: string | null): number | undefined {
  if (header === null) return undefined;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? undefined : Math.max(0, date - Date.now());
}

/** The first line of an upstream text, bounded: Loki's own 400 messages are useful, whole bodies are not. */
export function firstLineOf(text: string, max = 300): string {
  const line = text.split('\n', 1)[0]?.trim() ?? '';
  return line.length > max ? `${line.slice(0, max)}…` : line;
}

type AttemptFailure =
  | { ok: false; status: number; text: string; retryAfter: string | null }
  | { ok: false; status: 'network-error'; error: unknown };

/**
 * A page of Loki's answer as text, decoded chunk by chunk as it arrives. Whole-page buffers (from
 * `arrayBuffer()`, or network chunks kept until the page is complete) stay allocated outside the heap
 * until a full garbage collection: 150 MB of them in the benchmark, too much for a 256 MB function.
 * Decoding at once would cost about a fifth less CPU; memory decided. Answers are nearly always ASCII,
 * and Latin-1 decodes ASCII to the same text several times faster than UTF-8 decoding. A chunk that is
 * all ASCII ends on a whole character, so decoding may switch to UTF-8 at any chunk.
 */
async function readBody(response: Response): Promise<string> {
  if (response.body === null) return '';
  const pieces: string[] = [];
  let utf8: NodeTextDecoder | undefined;
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    const bytes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (utf8 === undefined && isAscii(bytes)) pieces.push(bytes.toString('latin1'));
    else {
      utf8 ??= new NodeTextDecoder();
      pieces.push(utf8.decode(bytes, { stream: true }));
    }
  }
  if (utf8 !== undefined) pieces.push(utf8.decode());
  return pieces.join('');
}

/** One UTC day of the plan, and where its events come from. */
interface DayPart {
  dayStart: number;
  range: TimeRange;
  /** Whole and closed (`DayRead.closed`): its events may be kept and reused. */
  cacheable: boolean;
  events: DayEvents;
  cached: boolean;
}

function dayParts(days: readonly DayRead[]): DayPart[] {
  return days.map(({ dayStart, range, closed }) => ({
    dayStart,
    range,
    cacheable: closed,
    events: emptyDay(),
    cached: false,
  }));
}

/** The epoch ms of a nanosecond timestamp (decimal text), for finding its day. */
function nsToMs(timestampNs: string): number {
  return timestampNs.length > 6 ? Number(timestampNs.slice(0, -6)) : 0;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A third of Loki's default HTTP write timeout (30 s), after which it closes a queued request unanswered. */
const SLOW_ANSWER_MS = 10_000;

/**
 * How many requests one fetch keeps in flight, adapted to Loki (AIMD). A small Loki's bottleneck is its
 * sub-query queue (4 querier workers; a 30-day query is 720 hourly sub-queries). Measured on the real
 * Loki 3.7.6 (300 repositories, 2 cores): 40 30-day queries at once were never refused with a 429 (each
 * query queues at most `max_query_parallelism` = 32 sub-queries, far below the frontend's 2,048); 10
 * answered in 8-29 s and 30 had their connection closed unanswered at its 30-s HTTP write timeout, while
 * 8 at once answered in 0.4-5.4 s. So the limit halves (not below 1) on a 429 or 503 (a smaller queue, a
 * gateway), on a connection closed without an answer, and on an answer slower than `slowAnswerMs`; it
 * grows back by one after as many good answers as the current limit, up to LOKI_CONCURRENCY. Only a
 * request sent after the last drop can drop it again: those already in flight saw the same queue.
 */
class AdaptiveLimit {
  readonly limit: LimitFunction;
  private goodAnswers = 0;
  private droppedAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly max: number,
    private readonly slowAnswerMs: number,
    private readonly onChange: (concurrency: number) => void,
  ) {
    this.limit = pLimit(max);
  }

  run<T extends { ok: boolean; status?: number | string }>(task: () => Promise<T>): Promise<T> {
    return this.limit(async () => {
      const startedAt = performance.now();
      const result = await task();
      const durationMs = performance.now() - startedAt;
      const refused =
        !result.ok && (result.status === 429 || result.status === 503 || result.status === 'network-error');
      if (refused || durationMs > this.slowAnswerMs) this.drop(startedAt);
      else if (result.ok) this.grow();
      return result;
    });
  }

  private drop(startedAt: number): void {
    this.goodAnswers = 0;
    if (startedAt < this.droppedAt || this.limit.concurrency === 1) return;
    this.droppedAt = performance.now();
    this.set(Math.max(1, Math.floor(this.limit.concurrency / 2)));
  }

  private grow(): void {
    this.goodAnswers += 1;
    if (this.goodAnswers < this.limit.concurrency || this.limit.concurrency >= this.max) return;
    this.goodAnswers = 0;
    this.set(this.limit.concurrency + 1);
  }

  private set(concurrency: number): void {
    this.limit.concurrency = concurrency;
    logger.info('Loki requests in flight changed', { concurrency });
    this.onChange(concurrency);
  }
}

/** One request's selection as each keeper of closed days names it, and what it read and wrote. */
interface Selection {
  query: string;
  storeKey: string;
  sources: DaySources;
  writes: Array<Promise<void>>;
}

interface FetchContext {
  limit: AdaptiveLimit;
  signal: AbortSignal;
  deadline: number | undefined;
  /** Counts requests, pages and lines as they come; each event parsed moves on at once to its day. */
  stats: FetchStats;
  /** The days being fetched, by their start. */
  days: Map<number, DayPart>;
  /** The one kind asked for, when only one is: its entries need no telling apart. */
  single: readonly EventKind[] | undefined;
  /** The events the request may hold; a page past it ends the request with a 422. */
  budget: EventBudget;
  kindNames: string;
}

/** The production environments' names, lower-cased; undefined when every environment counts. */
function productionEnvironmentSet(names: readonly string[] | undefined): ReadonlySet<string> | undefined {
  return names?.length ? new Set(names.map((name) => name.toLowerCase())) : undefined;
}

/**
 * How the reader turns one Loki entry of a day into that day's events, kept apart so that the store
 * benchmark's simulation (scripts/bench/simulated-rollups.ts) writes exactly the days the reader would.
 */
export function dayEntryCollector(
  settings: Pick<LokiSettings, 'productionEnvironments' | 'incidentLabels' | 'repositoryLabel'>,
): (
  entry: StreamEntry,
  kinds: readonly EventKind[],
  day: DayEvents,
  stats: Pick<FetchStats, 'lines' | 'skippedLines'>,
) => void {
  const incidentLabels = incidentLabelSet(settings.incidentLabels);
  const productionEnvironments = productionEnvironmentSet(settings.productionEnvironments);
  /**
   * A deployment whose environment label names another environment is counted but never parsed. The
   * query usually leaves those in Loki already (`productionCondition` in logql.ts); this covers the names it
   * cannot filter there. The parser takes the environment from that label first, so this drops exactly
   * the events the production filter below would drop.
   */
  const mayBeProduction = (labels: Record<string, string>): boolean => {
    const environment = labels.deployment_environment_name;
    return (
      productionEnvironments === undefined ||
      environment === undefined ||
      environment === '' ||
      productionEnvironments.has(environment.toLowerCase())
    );
  };
  // The labels a filter selects on, kept beside each event (`filterLabels`).
  const labelNames = filterLabelNames(settings);
  return (entry, kinds, day, stats) => {
    for (const kind of kinds) {
      if (kind === 'deployments' && !mayBeProduction(entry.labels)) {
        stats.lines += 1;
        continue;
      }
      const event = readEntry(kind, entry, incidentLabels, stats);
      if (event === undefined) continue;
      const labels = filterLabels(entry.labels, event.repository, labelNames);
      (day[kind] as Array<DayEntry<LokiEvent>>).push(
        labels === undefined ? [entry.timestampNs, event] : [entry.timestampNs, event, labels],
      );
    }
  };
}

export function createLokiEventStore(settings: LokiSettings, hooks: LokiHooks = {}): EventStore {
  const parsedUrl = parseLokiUrl(settings.url);
  const queryRangeUrl = `${parsedUrl.baseUrl}${QUERY_RANGE_PATH}`;
  const authorization = authorizationHeader(
    settings.user ?? parsedUrl.user,
    settings.token ?? parsedUrl.password,
  );
  const headers: Record<string, string> = {
    accept: 'application/json',
    ...(authorization ? { authorization } : {}),
    ...(settings.tenant ? { 'x-scope-orgid': settings.tenant } : {}),
  };
  const collectDayEntry = dayEntryCollector(settings);
  const productionEnvironments = productionEnvironmentSet(settings.productionEnvironments);
  const sleep = hooks.sleep ?? defaultSleep;
  const retryBaseDelayMs = settings.retryBaseDelayMs ?? 250;
  const pageLimit = Math.min(settings.pageLimit, LOKI_MAX_LIMIT);
  const dayCache = settings.dayCacheMaxMb ? new DayCache(settings.dayCacheMaxMb) : undefined;
  const rollups =
    hooks.rollups ??
    (settings.rollupsUrl
      ? new RollupStore(openObjectStore(settings.rollupsUrl, { variable: 'ROLLUPS_URL' }))
      : undefined);
  const closedDays = new ClosedDays(dayCache, rollups);
  // The labels a filter selects on, kept beside each event (`filterLabels`), and the namespace's own
  // query for every kind: its days serve every filtered request (closed-days.ts).
  const namespaceQuery = buildEventsQuery(KINDS, {}, settings);
  const namespaceStoreKey = storeSelection(namespaceQuery, settings);
  const closedAfterMs = settings.closedAfterMs ?? 2 * 3_600_000;
  const maxRequestEvents = settings.maxRequestEvents ?? defaultMaxRequestEvents();
  const deadlineMessage = closedDays.keeps ? RESUMABLE_DEADLINE_MESSAGE : DEADLINE_MESSAGE;

  function checkDeadline(context: FetchContext): void {
    context.signal.throwIfAborted();
    if (context.deadline !== undefined && Date.now() >= context.deadline) {
      throw new LokiError(deadlineMessage, { statusCode: 504 });
    }
  }

  /** One HTTP attempt; resolves to the parsed body, or to what went wrong. */
  async function attempt(
    kind: string,
    params: URLSearchParams,
    attemptNumber: number,
    context: FetchContext,
  ): Promise<{ ok: true; body: unknown } | AttemptFailure> {
    checkDeadline(context);
    // With a deadline, a request may take all the time left: a slow Loki answer (a year of a busy stream
    // takes 10-25 s on a small Loki) is waited for, never cut off and asked again. LOKI_TIMEOUT_MS only
    // bounds requests made without a deadline.
    const byDeadline = context.deadline !== undefined;
    const timeout = byDeadline ? Math.max(1, (context.deadline ?? 0) - Date.now()) : settings.timeoutMs;
    const startedAt = performance.now();
    let outcome: LokiRequestInfo['outcome'] = 'network-error';
    context.stats.requests += 1;
    try {
      const long = params.toString().length > MAX_QUERY_STRING_CHARS;
      const response = await ky(queryRangeUrl, {
        ...(long ? { method: 'post', body: params } : { method: 'get', searchParams: params }),
        headers,
        timeout,
        retry: 0,
        throwHttpErrors: false,
        signal: context.signal,
      });
      outcome = response.status;
      if (!response.ok) {
        return {
          ok: false,
          status: response.status,
          text: await response.text(),
          retryAfter: response.headers.get('retry-after'),
        };
      }
      return { ok: true, body: JSON.parse(await readBody(response)) };
    } catch (error) {
      context.signal.throwIfAborted();
      if (isTimeoutError(error)) {
        outcome = 'timeout';
        throw new LokiError(
          byDeadline
            ? deadlineMessage
            : `Loki did not answer within ${settings.timeoutMs} ms at ${hostOf(settings.url)}`,
          { statusCode: 504, cause: error },
        );
      }
      if (error instanceof SyntaxError) {
        throw new LokiError('Loki answered HTTP 200 with a body that is not JSON', { cause: error });
      }
      return { ok: false, status: 'network-error', error };
    } finally {
      const durationMs = performance.now() - startedAt;
      context.stats.lokiMs += durationMs;
      hooks.onRequest?.({ kind, attempt: attemptNumber, outcome, durationMs });
    }
  }

  /** One query_range request with retries on 429, 5xx and network errors; never on other 4xx. */
  async function queryRange(kind: string, params: URLSearchParams, context: FetchContext): Promise<unknown> {
    const attempts = settings.maxRetries + 1;
    for (let attemptNumber = 1; ; attemptNumber += 1) {
      const result = await context.limit.run(() => attempt(kind, params, attemptNumber, context));
      if (result.ok) return result.body;
      const retryable = result.status === 'network-error' || result.status === 429 || result.status >= 500;
      if (!retryable || attemptNumber >= attempts) throw failure(result, attemptNumber);
      const backoff = retryBaseDelayMs * 2 ** (attemptNumber - 1);
      const jittered = backoff / 2 + Math.random() * (backoff / 2);
      const fromServer = result.status === 'network-error' ? undefined : retryAfterMs(result.retryAfter);
      const delay = Math.min(fromServer ?? jittered, MAX_RETRY_DELAY_MS);
      if (context.deadline !== undefined && Date.now() + delay >= context.deadline) {
        throw new LokiError(deadlineMessage, {
          statusCode: 504,
          cause: failure(result, attemptNumber),
        });
      }
      logger.info('Retrying a Loki request', {
        kind,
        attempt: attemptNumber,
        status: result.status,
        ...(result.status === 'network-error' ? { reason: networkFailure(result.error).reason } : {}),
        delay: Math.round(delay),
      });
      await sleep(delay);
    }
  }

  function failure(result: AttemptFailure, attempts: number): LokiError {
    const times = attempts === 1 ? '1 attempt' : `${attempts} attempts`;
    if (result.status === 'network-error') {
      const { message, statusCode } = unreachable('Loki', settings.url, result.error, ` after ${times}`);
      return new LokiError(message, {
        statusCode,
        cause: result.error,
      });
    }
    const text = result.text;
    if (result.status === 400) {
      // Loki's 400s are about our own query or its limits: safe and useful to show.
      return new LokiError(`Loki rejected the query (HTTP 400): ${firstLineOf(text)}`, {
        upstreamStatus: 400,
        cause: new Error(text),
      });
    }
    return new LokiError(`Loki answered HTTP ${result.status} after ${times}`, {
      upstreamStatus: result.status,
      cause: new Error(firstLineOf(text)),
    });
  }

  interface PageSummary {
    count: number;
    lastNs: string;
    /** Keys of the entries taken at `lastNs`, which the next page (starting there) returns again. */
    seenAtLast: Set<string>;
  }

  /**
   * Fetches one page and turns it into events at once, returning only what paging needs. The parsed page
   * (several MB) must not outlive this call: an async function keeps the values of its local variables
   * while it waits, so a page held by the paging loop stayed alive while that loop queued for its next
   * request, and with dozens of ranges in flight the benchmark held ~24 pages (100 MB of lines) at once.
   */
  async function fetchPage(
    params: URLSearchParams,
    startNs: string,
    seenAtStart: Set<string>,
    context: FetchContext,
  ): Promise<PageSummary> {
    const body = await queryRange(context.kindNames, params, context);
    context.stats.pages += 1;
    let count = 0;
    let lastNs = startNs;
    try {
      count = forEachEntry(body, (entry) => {
        if (compareNs(entry.timestampNs, lastNs) > 0) lastNs = entry.timestampNs;
      });
    } catch (error) {
      throw new LokiError('Loki answered HTTP 200 with a body that is not a query_range result', {
        cause: error,
      });
    }
    context.budget.take(count);
    context.budget.check();
    const seenAtLast = lastNs === startNs ? seenAtStart : new Set<string>();
    forEachEntry(body, (entry) => {
      const atStart = entry.timestampNs === startNs;
      const atLast = entry.timestampNs === lastNs;
      if (atStart || atLast) {
        const key = `${entry.timestampNs}\u0000${JSON.stringify(entry.labels)}\u0000${entry.line}`;
        if (atStart && seenAtStart.has(key)) return;
        if (atLast) seenAtLast.add(key);
      }
      const kinds = context.single ?? kindsOf(entry.labels);
      if (kinds.length === 0) return;
      const day = context.days.get(startOfUtcDay(nsToMs(entry.timestampNs)));
      if (day === undefined) return;
      collectDayEntry(entry, kinds, day.events, context.stats);
    });
    return { count, lastNs, seenAtLast };
  }

  /**
   * Pages forward through [start, end) until a page comes back short; no line lost or counted twice. After
   * each full page, `onDaysComplete` gets the start of the last entry's day: every day before it is
   * complete, since later pages only hold later entries.
   */
  async function fetchChunk(
    query: string,
    range: TimeRange,
    context: FetchContext,
    onDaysComplete: (until: number) => void = () => {},
  ) {
    const endNs = msToNs(range.end);
    let startNs = msToNs(range.start);
    let limit = pageLimit;
    // Keys of the entries already taken at `startNs`, which the next page asks for again.
    let seenAtStart = new Set<string>();
    for (;;) {
      const params = new URLSearchParams({
        query,
        start: startNs,
        end: endNs,
        limit: String(limit),
        direction: 'forward',
      });
      const { count, lastNs, seenAtLast } = await fetchPage(params, startNs, seenAtStart, context);

      if (count < limit) return;
      onDaysComplete(startOfUtcDay(nsToMs(lastNs)));
      if (lastNs === startNs) {
        // A whole page on one timestamp: only a bigger page can get past it.
        if (limit >= LOKI_MAX_LIMIT) {
          throw new LokiError(
            `Loki holds more than ${LOKI_MAX_LIMIT} lines on one timestamp; cannot page past it`,
          );
        }
        limit = Math.min(limit * 2, LOKI_MAX_LIMIT);
      } else {
        limit = pageLimit;
      }
      startNs = lastNs;
      seenAtStart = seenAtLast;
    }
  }

  return {
    async fetchEvents(request: EventRequest) {
      const controller = new AbortController();
      const onAbort = () => controller.abort(request.signal?.reason);
      request.signal?.addEventListener('abort', onAbort, { once: true });
      if (request.signal?.aborted) onAbort();
      const plan = readPlan(request.ranges, { ...settings, closedAfterMs }, Date.now());
      const { kinds, union } = plan;
      const query = buildEventsQuery(kinds, request.filter, settings);
      const parts = dayParts(plan.days);
      const budget = new EventBudget(maxRequestEvents);
      const selection: Selection = {
        query,
        storeKey: storeSelection(query, settings),
        sources: noDaySources(closedDays.storeEnabled),
        writes: [],
      };
      if (closedDays.keeps && !request.noCache) {
        const closed = parts.filter((part) => part.cacheable).map((part) => part.dayStart);
        const kept = await closedDays.lookup(
          query,
          selection.storeKey,
          closed,
          selection.sources,
          { deadline: request.deadline, budget },
          namespaceDays(query, kinds, request.filter),
        );
        budget.check();
        for (const part of parts) {
          const events = kept.get(part.dayStart);
          if (events !== undefined) {
            part.events = events;
            part.cached = true;
          }
        }
      }
      selection.sources.loki = parts.filter((part) => part.cacheable && !part.cached).length;
      selection.sources.open = parts.filter((part) => !part.cacheable).length;
      const context: FetchContext = {
        limit: new AdaptiveLimit(
          plan.concurrency,
          settings.slowAnswerMs ?? SLOW_ANSWER_MS,
          hooks.onConcurrency ?? (() => {}),
        ),
        signal: controller.signal,
        deadline: request.deadline,
        stats: { requests: 0, pages: 0, lines: 0, skippedLines: 0, lokiMs: 0 },
        days: new Map(parts.filter((part) => !part.cached).map((part) => [part.dayStart, part])),
        single: kinds.length === 1 ? kinds : undefined,
        kindNames: kinds.join('+'),
        budget,
      };
      const found = new Set(parts.filter((part) => part.cached).map((part) => part.dayStart));
      const tasks = missingRanges(plan, found).flatMap((range) =>
        splitRange(range, plan.maxQueryLengthMs).map(async (chunk) => {
          // Days are kept as soon as they are complete (page by page, then the whole chunk): a request that
          // ends in a 504 still leaves the days it read, so asking again continues where it stopped. When
          // days were kept only once their chunk was complete, a busy 30-day piece of 300 repositories
          // slower than the deadline kept nothing, and the organisation's year was still a 504 at the 14th try.
          await fetchChunk(query, chunk, context, (until) =>
            keepDays(selection, parts, { start: chunk.start, end: until }),
          );
          keepDays(selection, parts, chunk);
        }),
      );
      try {
        await Promise.all(
          tasks.map((task) =>
            task.catch((error: unknown) => {
              // The first failure decides; stop everything else instead of paging on for nothing.
              controller.abort(error);
              throw error;
            }),
          ),
        );
      } catch (error) {
        context.limit.limit.clearQueue();
        throw controller.signal.reason ?? error;
      } finally {
        request.signal?.removeEventListener('abort', onAbort);
      }

      const { stats } = context;
      if (stats.skippedLines > 0) {
        logger.warn('Skipped Loki lines that are not events', { skippedLines: stats.skippedLines });
      }
      keepDays(selection, parts, union);
      await closedDays.settle(selection.writes);
      stats.days = selection.sources;
      logger.info('Days read', { ...selection.sources, lokiRequests: stats.requests });
      return { ...eventsInRanges(parts, request.ranges), stats };
    },
  };

  /**
   * Where a request other than the namespace's own finds its closed days first: the namespace's days,
   * narrowed to its filter. Only for the three kinds together, the query the read paths send and the
   * backfill stores: its entries are told apart by `kindsOf`, a single kind's query by its own stage,
   * and on an entry no collector writes (a merge carrying a deployment status) the two could differ.
   */
  function namespaceDays(
    query: string,
    kinds: readonly EventKind[],
    filter: EventRequest['filter'],
  ): NamespaceDays | undefined {
    if (query === namespaceQuery || kinds.length !== KINDS.length) return undefined;
    const keep = eventPredicate(filter, settings);
    return {
      memoryKey: namespaceQuery,
      storeKey: namespaceStoreKey,
      keep,
      narrow: (day) => narrowDay(day, keep),
    };
  }

  /** Keeps the closed whole days read inside `within` (a complete chunk, or the whole request). */
  function keepDays(selection: Selection, parts: DayPart[], within: TimeRange): void {
    if (!closedDays.keeps) return;
    for (const part of parts) {
      if (!part.cacheable || part.cached || part.range.start < within.start || part.range.end > within.end)
        continue;
      const { query, storeKey, sources, writes } = selection;
      closedDays.keep(query, storeKey, part.dayStart, part.events, sources, writes);
      part.cached = true;
    }
  }

  /** Each kind's events inside its own range (the days hold every kind of the whole union range). */
  function eventsInRanges(parts: readonly DayPart[], ranges: EventRequest['ranges']) {
    const bounds = (kind: EventKind) => ({
      startNs: msToNs(ranges[kind].start),
      endNs: msToNs(ranges[kind].end),
    });
    const within = <T>(kind: EventKind, pairs: ReadonlyArray<DayEntry<T>>, into: T[]) => {
      const { startNs, endNs } = bounds(kind);
      for (const [timestampNs, event] of pairs) {
        if (compareNs(timestampNs, startNs) >= 0 && compareNs(timestampNs, endNs) < 0) into.push(event);
      }
    };
    const deployments: DeploymentEvent[] = [];
    const incidents: IncidentEvent[] = [];
    const merges: MergeEvent[] = [];
    for (const part of parts) {
      within('deployments', part.events.deployments, deployments);
      within('incidents', part.events.incidents, incidents);
      within('merges', part.events.merges, merges);
    }
    return {
      deployments: productionEnvironments
        ? deployments.filter((event) => productionEnvironments.has(event.environment.toLowerCase()))
        : deployments,
      incidents: dedupeIncidents(incidents),
      merges,
    };
  }
}

/** The store's settings from the configuration and the run-time secrets. */
export function lokiSettingsFrom(config: Config, secrets: Pick<Secrets, 'lokiToken'>): LokiSettings {
  return {
    url: requireSetting(config.loki.url, 'LOKI_URL'),
    user: config.loki.user,
    token: secrets.lokiToken,
    tenant: config.loki.tenant,
    serviceNamespace: config.serviceNamespace,
    repositoryLabel: config.loki.repositoryLabel,
    teamStreams: config.loki.teamStreams,
    productionEnvironments: config.productionEnvironments,
    incidentLabels: config.incidentLabels,
    pageLimit: config.loki.pageLimit,
    maxQueryLengthMs: config.loki.maxQueryLengthMs,
    concurrency: config.loki.concurrency,
    timeoutMs: config.loki.timeoutMs,
    maxRetries: config.loki.maxRetries,
    dayCacheMaxMb: dataCacheShares(config.dataCache).daysMb,
    // Writes through this API are back-dated at most LOKI_PUSH_MAX_BACKDATE, and Loki refuses entries
    // about an hour behind the newest of their stream: a day that ended longer ago than both is closed.
    closedAfterMs: config.writes.maxBackdateMs + 3_600_000,
    rollupsUrl: config.rollupsUrl,
  };
}

/** What makes two Loki clients different: where they connect and with which credentials. */
export function connectionKey(settings: Pick<LokiSettings, 'url' | 'user' | 'token' | 'tenant'>): string {
  return JSON.stringify([settings.url, settings.user, settings.token, settings.tenant]);
}

const eventStores = boundedMemo<EventStore>(8);

/**
 * The event store for this configuration and these secrets, built once and reused by warm invocations
 * (a rotated token, or any other setting changed, gets a new store).
 */
export function getEventStore(config: Config, secrets: Pick<Secrets, 'lokiToken'>): EventStore {
  const settings = lokiSettingsFrom(config, secrets);
  // Keyed by every setting, not only the connection: a store builds its queries from them.
  return eventStores(JSON.stringify(settings), () => createLokiEventStore(settings));
}
