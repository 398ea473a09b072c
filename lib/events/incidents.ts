import type { Config } from '../config';
import type { EpochMs, IncidentEvent } from '../dora/types';
import { logger } from '../logger';
import { splitRange } from '../loki/client';
import { logqlString, WRITE_SOURCE } from '../loki/logql';
import { incidentLabelSet, parseIncident } from '../loki/parse';
import { type LokiWriter, nsRange } from '../loki/push';
import { INCIDENT_ID_LABEL } from './entries';

/** Entries stored at most this far ahead of our clock (other instances' clocks) are still looked at. */
const CLOCK_SKEW_MS = 60_000;

/** The query for the reports of one incident written by this API (only they carry `incident_id`). */
export function incidentQuery(serviceNamespace: string, repository: string, id: string): string {
  return (
    `{service_namespace=${logqlString(serviceNamespace)}, service_name=${logqlString(repository)}}` +
    ` | source=${logqlString(WRITE_SOURCE)}, ${INCIDENT_ID_LABEL}=${logqlString(id)}` +
    `, vcs_repository_name=${logqlString(repository)}`
  );
}

export interface FoundIncident {
  incident: IncidentEvent;
  /** Loki time of the latest report: the next one is stored after it. */
  timestampNs: string;
}

/**
 * The latest report of an incident within INCIDENT_LOOKBACK_DAYS, newest time span first, one line per
 * request. Every report carries the whole state, so the latest one is the incident.
 */
export async function findIncident(
  writer: Pick<LokiWriter, 'newest'>,
  config: Pick<Config, 'serviceNamespace' | 'incidentLabels' | 'writes' | 'loki'>,
  repository: string,
  id: string,
  now: EpochMs,
): Promise<FoundIncident | undefined> {
  const query = incidentQuery(config.serviceNamespace, repository, id);
  const labels = incidentLabelSet(config.incidentLabels);
  const end = now + CLOCK_SKEW_MS;
  const spans = splitRange(
    { start: end - config.writes.incidentLookbackMs, end },
    config.loki.maxQueryLengthMs,
  ).reverse();
  for (const span of spans) {
    const [latest] = await writer.newest(query, nsRange(span), 1);
    if (latest === undefined) continue;
    const incident = parseIncident(latest.labels, latest.line, labels);
    if (incident === undefined) {
      // Written under other INCIDENT_LABELS: a new report starts over rather than failing.
      logger.warn('an earlier incident report does not parse as an incident', { repository, id });
      return undefined;
    }
    return { incident, timestampNs: latest.timestampNs };
  }
  return undefined;
}
