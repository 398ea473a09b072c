import type { Config } from '../../lib/config';
import type { TimeRange } from '../../lib/dora/types';
import { createLokiEventStore, lokiSettingsFrom, splitRange } from '../../lib/loki/client';
import { buildQuery, type EventKind, type QueryOptions } from '../../lib/loki/logql';
import type { EventFilter } from '../../lib/loki/types';
import { DAY_MS, NS_PER_MS } from '../../lib/time';

/**
 * The two floors `npm run bench -- --loki=real` sets beside the API's own figures, measured in the same
 * run on the same Loki:
 * - naive: the three event queries as they were asked before the one-pass reader (label filters on the
 *   namespace's streams), each paged through the window in turn, one request at a time;
 * - one pass: one query selecting exactly the requested streams by index label, no filter at all, paged,
 *   its 30-day pieces one after the other. No reader that filters can read less of Loki than this.
 */

const MAX_QUERY_MS = 30 * DAY_MS;

export interface FloorFigures {
  ms: number;
  requests: number;
  lines: number;
}

async function pagedQuery(lokiUrl: string, query: string, range: TimeRange, into: FloorFigures) {
  for (const piece of splitRange(range, MAX_QUERY_MS)) {
    let start = String(BigInt(piece.start) * NS_PER_MS);
    const end = String(BigInt(piece.end) * NS_PER_MS);
    for (;;) {
      const params = new URLSearchParams({ query, start, end, limit: '5000', direction: 'forward' });
      const response = await fetch(`${lokiUrl}/loki/api/v1/query_range?${params}`);
      into.requests += 1;
      if (!response.ok) throw new Error(`Loki answered ${response.status}: ${await response.text()}`);
      const body = (await response.json()) as { data: { result: Array<{ values: [string, string][] }> } };
      let count = 0;
      let last = start;
      for (const stream of body.data.result) {
        for (const [ns] of stream.values) {
          count += 1;
          if (ns.length > last.length || (ns.length === last.length && ns > last)) last = ns;
        }
      }
      into.lines += count;
      // Lines at the page's last timestamp come again on the next page: a floor may count a few twice.
      if (count < 5000 || last === start) break;
      start = last;
    }
  }
}

async function timed(run: (figures: FloorFigures) => Promise<void>): Promise<FloorFigures> {
  const figures: FloorFigures = { ms: 0, requests: 0, lines: 0 };
  const startedAt = performance.now();
  await run(figures);
  figures.ms = performance.now() - startedAt;
  return figures;
}

export interface FloorCase {
  /** The window with the look-around the API reads around it. */
  ranges: Record<EventKind, TimeRange>;
  filter: EventFilter;
}

export function naiveFloor(lokiUrl: string, options: QueryOptions, floorCase: FloorCase) {
  return timed(async (figures) => {
    for (const kind of ['deployments', 'incidents', 'merges'] as const) {
      await pagedQuery(lokiUrl, buildQuery(kind, floorCase.filter, options), floorCase.ranges[kind], figures);
    }
  });
}

/** `streams` is the selector of exactly the requested streams, e.g. `{service_namespace="github", service_name=~"a|b"}`. */
export function onePassFloor(lokiUrl: string, streams: string, range: TimeRange) {
  return timed((figures) => pagedQuery(lokiUrl, streams, range, figures));
}

/**
 * The store benchmarks' floor (scripts/bench/rollups.ts, real-rollups.ts): the read path's own Loki reader
 * handing over every event of the namespace in `range` once, with no store and no memory of days, so that
 * a backfill of the same days can be set beside it. Its events, for the count.
 */
export async function namespaceFloor(
  config: Config,
  range: TimeRange,
): Promise<{ ms: number; events: number }> {
  const reader = createLokiEventStore({
    ...lokiSettingsFrom(config, { lokiToken: undefined }),
    dayCacheMaxMb: 0,
    // The floor keeps nothing: with the caller's store attached it would fill the store it is measured beside.
    rollupsUrl: undefined,
  });
  const started = performance.now();
  const events = await reader.fetchEvents({
    filter: {},
    ranges: { deployments: range, incidents: range, merges: range },
  });
  return {
    ms: performance.now() - started,
    events: events.deployments.length + events.incidents.length + events.merges.length,
  };
}
