import type { Config } from '../config';
import { compareText } from '../dora/collections';
import { formatTime } from '../dora/time';
import type { EpochMs } from '../dora/types';
import { logger } from '../logger';
import { splitRange } from '../loki/client';
import { logqlString, WRITE_SOURCE } from '../loki/logql';
import type { LokiWriter } from '../loki/push';
import type { LokiEntry } from '../loki/types';
import { NS_PER_MS } from '../time';
import { type GitOpsStatus, gitOpsStatusSchema, type StatusReport } from './schema';

/**
 * GitOps sync statuses live in Loki like every other event: one entry per report, in their own stream
 * (`service_name="gitops-status"`), stored at the time they were received. The latest report of each
 * repo:server pair within STATUS_TTL_HOURS is the current status.
 */

export const STATUS_SERVICE_NAME = 'gitops-status';
export const STATUS_EVENT_NAME = 'gitops_sync_status';
/** Loki's default max_line_size is 256 KB; a longer line would be refused (or cut) by Loki. */
export const MAX_STATUS_LINE_BYTES = 256 * 1024 - 1024;
/** A GET reads at most this many reports, newest first: enough for thousands of pairs reporting often. */
export const MAX_STATUS_SCAN_LINES = 50_000;
const CLOCK_SKEW_MS = 60_000;

export function statusEntry(report: StatusReport, serviceNamespace: string, receivedAt: EpochMs): LokiEntry {
  const line: Omit<GitOpsStatus, 'updated_at'> = {
    repo: report.repo,
    server: report.server,
    sync_status: report.sync_status,
    drift_count: report.drift_count,
    files: report.files.map((file) => ({ name: file.name })),
    last_check: report.last_check,
  };
  return {
    labels: {
      service_name: STATUS_SERVICE_NAME,
      service_namespace: serviceNamespace,
      source: WRITE_SOURCE,
      event_name: STATUS_EVENT_NAME,
      gitops_repo: report.repo,
      gitops_server: report.server,
      sync_status: report.sync_status,
    },
    // Sub-millisecond digits keep two agents reporting in the same millisecond apart (paging relies on it).
    timestampNs: String(BigInt(receivedAt) * NS_PER_MS + BigInt(Math.floor(Math.random() * 1_000_000))),
    line: JSON.stringify(line),
  };
}

export interface StatusFilter {
  repo?: string | undefined;
  server?: string | undefined;
}

export function statusQuery(serviceNamespace: string, filter: StatusFilter): string {
  const matchers = [
    `source=${logqlString(WRITE_SOURCE)}`,
    `event_name=${logqlString(STATUS_EVENT_NAME)}`,
    ...(filter.repo === undefined ? [] : [`gitops_repo=${logqlString(filter.repo)}`]),
    ...(filter.server === undefined ? [] : [`gitops_server=${logqlString(filter.server)}`]),
  ];
  return (
    `{service_namespace=${logqlString(serviceNamespace)}, service_name=${logqlString(STATUS_SERVICE_NAME)}}` +
    ` | ${matchers.join(', ')}`
  );
}

function statusOf(entry: LokiEntry): GitOpsStatus | undefined {
  try {
    const parsed = gitOpsStatusSchema.safeParse({
      ...JSON.parse(entry.line),
      updated_at: formatTime(Number(BigInt(entry.timestampNs) / NS_PER_MS)),
    });
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

export const pairKey = (repo: string, server: string) => `${repo}:${server}`;

export interface LatestStatuses {
  statuses: GitOpsStatus[];
  /** Reports read from Loki. */
  scanned: number;
  /** The scan stopped at MAX_STATUS_SCAN_LINES: pairs that reported only long ago may be missing. */
  truncated: boolean;
}

/**
 * The latest report of every repo:server pair received within the TTL, sorted by repo then server.
 * Reads newest first, page after page, through time spans of at most LOKI_MAX_QUERY_LENGTH.
 */
export async function latestStatuses(
  writer: Pick<LokiWriter, 'newest'>,
  config: Pick<Config, 'serviceNamespace' | 'writes' | 'loki'>,
  filter: StatusFilter,
  now: EpochMs,
): Promise<LatestStatuses> {
  const query = statusQuery(config.serviceNamespace, filter);
  const onePair = filter.repo !== undefined && filter.server !== undefined;
  const pageLimit = onePair ? 1 : config.loki.pageLimit;
  const end = now + CLOCK_SKEW_MS;
  const spans = splitRange(
    { start: now - config.writes.statusTtlMs, end },
    config.loki.maxQueryLengthMs,
  ).reverse();
  const latest = new Map<string, GitOpsStatus>();
  let scanned = 0;
  let truncated = false;

  reading: for (const span of spans) {
    let endNs = BigInt(span.end) * NS_PER_MS;
    const startNs = BigInt(span.start) * NS_PER_MS;
    for (;;) {
      const page = await writer.newest(query, { startNs, endNs }, pageLimit);
      scanned += page.length;
      for (const entry of page) {
        const status = statusOf(entry);
        if (status === undefined) continue;
        const key = pairKey(status.repo, status.server);
        if (!latest.has(key)) latest.set(key, status);
      }
      if (onePair && latest.size > 0) break reading;
      const oldest = page[page.length - 1];
      if (page.length < pageLimit || oldest === undefined) break;
      if (scanned >= MAX_STATUS_SCAN_LINES) {
        truncated = true;
        logger.warn('GET /status.json stopped reading reports at the scan limit', { scanned });
        break reading;
      }
      // `end` is exclusive: the next page starts just before the oldest report of this one.
      endNs = BigInt(oldest.timestampNs);
    }
  }

  const statuses = [...latest.values()].sort(
    (a, b) => compareText(a.repo, b.repo) || compareText(a.server, b.server),
  );
  return { statuses, scanned, truncated };
}
