import type { EpochMs, EventBatch, TimeRange } from '../dora/types';
import type { DaySources } from './closed-days';

/** One log line as Loki stores it: its labels (index labels and structured metadata), time, line. */
export interface LokiEntry {
  /** Index labels and structured metadata together, as `query_range` returns them in `stream`. */
  labels: Record<string, string>;
  /** Nanoseconds since the epoch, as a decimal string (Loki's wire form). */
  timestampNs: string;
  line: string;
}

/** Which events a request is about. Every value is validated and escaped before it reaches LogQL. */
export interface EventFilter {
  repositories?: string[];
  /** `team_name` label. */
  team?: string;
  /**
   * Other spellings of the same team (its GitHub name and slug): collectors label events with either,
   * so `team_name` may hold any of them.
   */
  teamAliases?: string[];
  /**
   * Repositories the team owns according to GitHub: their events count for the team even when the
   * stream carries no `team_name` label.
   */
  teamRepositories?: string[];
  /**
   * Repositories other GitHub teams own: with LOKI_TEAM_STREAMS=skip-others their streams are not read
   * for this team (see `TeamStreams` in logql.ts).
   */
  otherTeamsRepositories?: string[];
  /**
   * Values of the `service_name` index label (OpenTelemetry `service.name`): only these services' streams are
   * read, chosen in the stream selector.
   */
  services?: string[];
}

export interface EventRequest {
  filter: EventFilter;
  /** Each kind of event has its own range: merges reach back before the window, incidents and fixes after it. */
  ranges: { deployments: TimeRange; incidents: TimeRange; merges: TimeRange };
  signal?: AbortSignal;
  /** Epoch ms after which no new Loki request starts (the request then fails with a 504). */
  deadline?: EpochMs;
  /** Ask Loki for every day, also those the reader keeps (`no_cache=true`); what it reads is still kept. */
  noCache?: boolean;
}

export interface FetchStats {
  requests: number;
  pages: number;
  lines: number;
  /** Lines that were not JSON or lacked what their kind of event needs. */
  skippedLines: number;
  /** Wall time spent waiting on Loki (summed over concurrent requests). */
  lokiMs: number;
  /** Where the request's days came from (memory, the store of closed days, Loki). */
  days?: DaySources;
}

/** The read side of the event store; handlers and tests depend on this, not on Loki. */
export interface EventStore {
  fetchEvents(request: EventRequest): Promise<EventBatch & { stats: FetchStats }>;
}

/** The write side (push API). */
export interface EventSink {
  push(entries: LokiEntry[]): Promise<void>;
}
