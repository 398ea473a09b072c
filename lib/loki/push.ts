import type { Config } from '../config';
import type { TimeRange } from '../dora/types';
import { LokiError } from '../errors';
import { boundedMemo } from '../memo';
import type { Secrets } from '../secrets';
import { NS_PER_MS } from '../time';
import { connectionKey, lokiSettingsFrom } from './client';
import { callLoki, type LokiConnection, type LokiConnectionSettings, lokiConnection } from './http';
import { forEachEntry } from './parse';
import type { EventSink, LokiEntry } from './types';

/**
 * The write side of the event store: Loki's push API, in the shape the OpenTelemetry collector writes
 * (index labels `service_name` and `service_namespace`; every other label as structured metadata, which
 * Loki 3 returns merged into `stream`), plus the bounded newest-first query the write routes need to
 * look at what they wrote before.
 */

/** The collector's index labels; everything else an entry carries is structured metadata. */
export const INDEX_LABELS: readonly string[] = ['service_name', 'service_namespace'];

const PUSH_PATH = '/loki/api/v1/push';
const QUERY_RANGE_PATH = '/loki/api/v1/query_range';

export interface LokiWriter extends EventSink {
  /** Pushes the entries in one request; resolves when Loki accepted them (HTTP 204). */
  push(entries: LokiEntry[]): Promise<void>;
  /** Entries matching `query` in [range.startNs, range.endNs), newest first, at most `limit` (one request). */
  newest(query: string, range: NsRange, limit: number): Promise<LokiEntry[]>;
}

/** A time range in nanoseconds (end exclusive), precise enough to page past the last entry received. */
export interface NsRange {
  startNs: bigint;
  endNs: bigint;
}

export function nsRange(range: TimeRange): NsRange {
  return { startNs: BigInt(range.start) * NS_PER_MS, endNs: BigInt(range.end) * NS_PER_MS };
}

type PushValue = [string, string] | [string, string, Record<string, string>];

/** The push body: entries grouped into streams by their index labels, metadata as each value's third element. */
export function pushBody(entries: readonly LokiEntry[]): {
  streams: Array<{ stream: Record<string, string>; values: PushValue[] }>;
} {
  const streams = new Map<string, { stream: Record<string, string>; values: PushValue[] }>();
  for (const entry of entries) {
    const stream: Record<string, string> = {};
    const metadata: Record<string, string> = {};
    for (const [name, value] of Object.entries(entry.labels)) {
      if (INDEX_LABELS.includes(name)) stream[name] = value;
      else metadata[name] = value;
    }
    const key = JSON.stringify(Object.entries(stream).sort());
    let group = streams.get(key);
    if (group === undefined) {
      group = { stream, values: [] };
      streams.set(key, group);
    }
    group.values.push(
      Object.keys(metadata).length === 0
        ? [entry.timestampNs, entry.line]
        : [entry.timestampNs, entry.line, metadata],
    );
  }
  return { streams: [...streams.values()] };
}

export function createLokiWriter(settings: LokiConnectionSettings): LokiWriter {
  const connection: LokiConnection = lokiConnection(settings);
  return {
    async push(entries) {
      if (entries.length === 0) return;
      await callLoki(connection, {
        action: 'push',
        method: 'post',
        path: PUSH_PATH,
        json: pushBody(entries),
      });
    },

    async newest(query, range, limit) {
      const text = await callLoki(connection, {
        action: 'query',
        method: 'get',
        path: QUERY_RANGE_PATH,
        searchParams: new URLSearchParams({
          query,
          start: String(range.startNs),
          end: String(range.endNs),
          limit: String(limit),
          direction: 'backward',
        }),
      });
      const entries: LokiEntry[] = [];
      try {
        forEachEntry(JSON.parse(text), (entry) => entries.push(entry));
      } catch (error) {
        throw new LokiError('Loki answered HTTP 200 with a body that is not a query_range result', {
          cause: error,
        });
      }
      // Loki returns streams one after the other: order across them by time, newest first.
      return entries.sort((a, b) => compareNsDescending(a.timestampNs, b.timestampNs)).slice(0, limit);
    },
  };
}

function compareNsDescending(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x > y ? -1 : x < y ? 1 : 0;
}

const writers = boundedMemo<LokiWriter>(8);

/** The writer for these settings, built once per container (a rotated token gets a new one). */
export function getLokiWriter(config: Config, secrets: Pick<Secrets, 'lokiToken'>): LokiWriter {
  // The reader's settings: the same URL, credentials, tenant, timeout and retries.
  const settings = lokiSettingsFrom(config, secrets);
  return writers(connectionKey(settings), () => createLokiWriter(settings));
}

/** Nanoseconds since the epoch as Loki's decimal string; `offsetNs` keeps entries of one instant apart. */
export function timestampNs(ms: number, offsetNs = 0): string {
  return String(BigInt(Math.trunc(ms)) * NS_PER_MS + BigInt(offsetNs));
}
