import type { Config } from '../config';
import { formatOptionalTime, formatTime } from '../dora/time';
import type { DeploymentEvent, EpochMs, IncidentEvent, MergeEvent } from '../dora/types';
import { BadRequestError, HttpError } from '../errors';
import { errorToResponse } from '../http/errors';
import { type HttpResponse, jsonResponse } from '../http/response';
import type { RouteRequest } from '../http/route';
import { logger } from '../logger';
import { incidentLabelSet, parseDeployment, parseIncident, parseMerge } from '../loki/parse';
import { getLokiWriter } from '../loki/push';
import type { LokiEntry } from '../loki/types';
import { deploymentEntry, incidentEntry, mergeEntry, type WriteContext } from './entries';
import { findIncident } from './incidents';
import type { DeploymentEventRequest, IncidentEventRequest, IncidentView } from './schemas';

/** Clocks of reporters drift: a time this far ahead of ours is still accepted (and stored as now). */
export const FUTURE_TOLERANCE_MS = 5 * 60_000;

function writeContextOf(config: Config, now: EpochMs): WriteContext {
  return {
    serviceNamespace: config.serviceNamespace,
    owner: config.github.org,
    now,
    maxBackdateMs: config.writes.maxBackdateMs,
  };
}

function timeOf(text: string | undefined, field: string, now: EpochMs): EpochMs | undefined {
  if (text === undefined) return undefined;
  const ms = Date.parse(text);
  if (ms > now + FUTURE_TOLERANCE_MS) {
    throw new BadRequestError(`Invalid request body: ${field} is in the future`, {
      fields: [{ field, message: 'must not be in the future' }],
    });
  }
  return ms;
}

/** Without GITHUB_ORG the reader cannot build a link to the repository, so the event must bring its own. */
function requireUrlWithoutOwner(url: string | undefined, config: Config): void {
  if (url === undefined && config.github.org === undefined) {
    throw new BadRequestError('Invalid request body: url is required (this server has no GITHUB_ORG)', {
      fields: [{ field: 'url', message: 'is required when the server has no GITHUB_ORG to link to' }],
    });
  }
}

/** Reads an entry back the way /data will; a builder bug must never reach Loki. */
function readBack<T>(entry: LokiEntry, parse: (entry: LokiEntry) => T | undefined, kind: string): T {
  const event = parse(entry);
  if (event === undefined) {
    throw new HttpError(500, `A built ${kind} entry does not parse as a ${kind}: ${entry.line}`);
  }
  return event;
}

function deploymentView(event: DeploymentEvent) {
  return {
    repository: event.repository,
    team: event.team,
    environment: event.environment,
    sha: event.sha,
    status: event.state,
    created_at: formatTime(event.createdAt),
    url: event.url,
    id: event.deploymentId,
  };
}

function mergeView(event: MergeEvent) {
  return {
    repository: event.repository,
    sha: event.sha,
    title: event.title,
    user: event.user,
    merged_at: formatTime(event.mergedAt),
  };
}

/** `POST /events/deployments`: one deployment event, and a merged-change event for its pull request. */
export async function postDeploymentEvent({
  context,
  config,
  body,
}: RouteRequest<undefined, DeploymentEventRequest>): Promise<HttpResponse> {
  const now = Date.now();
  const createdAt = timeOf(body.created_at, 'created_at', now) ?? now;
  const mergedAt = timeOf(body.pull_request?.merged_at, 'pull_request.merged_at', now);
  if (mergedAt !== undefined && mergedAt > createdAt) {
    throw new BadRequestError('Invalid request body: pull_request.merged_at is after created_at', {
      fields: [{ field: 'pull_request.merged_at', message: 'must not be after the deployment (created_at)' }],
    });
  }
  requireUrlWithoutOwner(body.url, config);

  const write = writeContextOf(config, now);
  const deployment = deploymentEntry(
    {
      repository: body.repository,
      team: body.team,
      sha: body.sha,
      environment: body.environment,
      status: body.status,
      createdAt,
      url: body.url,
    },
    write,
  );
  const merge =
    body.pull_request === undefined || mergedAt === undefined
      ? undefined
      : mergeEntry(
          {
            repository: body.repository,
            team: body.team,
            sha: body.sha,
            title: body.pull_request.title,
            user: body.pull_request.user,
            mergedAt,
          },
          write,
        );
  const deploymentEvent = readBack(deployment, (e) => parseDeployment(e.labels, e.line), 'deployment');
  const mergeEvent = merge && readBack(merge, (e) => parseMerge(e.labels, e.line), 'merge');

  await getLokiWriter(config, context.secrets).push(merge ? [merge, deployment] : [deployment]);
  logger.info('deployment event written', {
    repository: body.repository,
    environment: body.environment,
    status: body.status,
    withMerge: merge !== undefined,
  });
  return jsonResponse(201, {
    deployment: deploymentView(deploymentEvent),
    change: mergeEvent ? mergeView(mergeEvent) : null,
  });
}

function incidentView(incident: IncidentEvent): IncidentView {
  return {
    repository: incident.repository,
    id: incident.id,
    team: incident.team,
    title: incident.title,
    created_at: formatTime(incident.createdAt),
    resolved_at: formatOptionalTime(incident.closedAt),
    url: incident.url,
  };
}

/**
 * The incident after this report, merged with the earlier one the way the reader merges events of one
 * incident (earliest creation, latest resolution); a given title, team or link replaces the earlier one.
 */
export function mergeIncident(
  existing: IncidentEvent | undefined,
  report: Pick<IncidentEventRequest, 'title' | 'team' | 'url'> & {
    createdAt: EpochMs | undefined;
    resolvedAt: EpochMs | undefined;
  },
  now: EpochMs,
): { createdAt: EpochMs; closedAt: EpochMs | null; title: string | null; team: string | null; url?: string } {
  const createdAt = Math.min(report.createdAt ?? existing?.createdAt ?? now, existing?.createdAt ?? Infinity);
  const closings = [existing?.closedAt ?? null, report.resolvedAt ?? null].filter(
    (time): time is EpochMs => time !== null,
  );
  const url = report.url ?? existing?.url;
  return {
    createdAt,
    closedAt: closings.length === 0 ? null : Math.max(...closings),
    title: report.title ?? existing?.title ?? null,
    team: report.team ?? existing?.team ?? null,
    ...(url === undefined ? {} : { url }),
  };
}

function sameIncident(a: IncidentEvent, b: IncidentEvent): boolean {
  return (
    a.createdAt === b.createdAt &&
    a.closedAt === b.closedAt &&
    a.title === b.title &&
    a.team === b.team &&
    a.url === b.url
  );
}

/**
 * `POST /events/incidents`: opens, updates or resolves an incident of a repository. 201 for a new
 * incident, 200 when the report changed it, 409 (with the incident) when it changed nothing.
 */
export async function postIncidentEvent({
  context,
  config,
  body,
}: RouteRequest<undefined, IncidentEventRequest>): Promise<HttpResponse> {
  const now = Date.now();
  const reportedCreatedAt = timeOf(body.created_at, 'created_at', now);
  const resolvedAt = timeOf(body.resolved_at, 'resolved_at', now);
  const writer = getLokiWriter(config, context.secrets);
  const incidentLabels = incidentLabelSet(config.incidentLabels);

  const found = await findIncident(writer, config, body.repository, body.id, now);
  const existing = found?.incident;
  if (existing === undefined) requireUrlWithoutOwner(body.url, config);
  const next = mergeIncident(existing, { ...body, createdAt: reportedCreatedAt, resolvedAt }, now);
  if (next.closedAt !== null && next.closedAt < next.createdAt) {
    throw new BadRequestError('Invalid request body: resolved_at is before the incident was created', {
      fields: [{ field: 'resolved_at', message: `must not be before ${formatTime(next.createdAt)}` }],
    });
  }

  const entry = incidentEntry(
    {
      repository: body.repository,
      id: body.id,
      team: next.team ?? undefined,
      title: next.title,
      createdAt: next.createdAt,
      closedAt: next.closedAt,
      url: next.url,
      incidentLabel: config.incidentLabels[0] ?? 'incident',
      previousTimestampNs: found?.timestampNs,
    },
    writeContextOf(config, now),
  );
  const incident = readBack(entry, (e) => parseIncident(e.labels, e.line, incidentLabels), 'incident');
  if (existing !== undefined && sameIncident(existing, incident)) {
    const conflict = errorToResponse(
      new HttpError(409, `Incident ${body.id} of ${body.repository} is already recorded with these values`),
      context.awsRequestId,
    );
    return {
      ...conflict,
      body: JSON.stringify({ ...JSON.parse(conflict.body), incident: incidentView(existing) }),
    };
  }

  await writer.push([entry]);
  logger.info('incident event written', {
    repository: body.repository,
    id: body.id,
    resolved: incident.closedAt !== null,
    update: existing !== undefined,
  });
  return jsonResponse(existing === undefined ? 201 : 200, {
    status: existing === undefined ? 'created' : 'updated',
    incident: incidentView(incident),
  });
}
