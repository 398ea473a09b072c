import { createHash } from 'node:crypto';
import { formatTime } from '../dora/time';
import type { EpochMs, IncidentEvent } from '../dora/types';
import { WRITE_SOURCE } from '../loki/logql';
import { timestampNs } from '../loki/push';
import type { LokiEntry } from '../loki/types';

/**
 * Pure builders of the Loki entries the write routes push, in the collector's shape (labels and JSON
 * line as in the shared real fixtures), so lib/loki/parse.ts reads them exactly like webhook events.
 * Every entry carries `source="dora-api"` (the collector writes `source="webhookevent"`) so written
 * events can be told apart.
 */

export interface WriteContext {
  /** The `service_namespace` index label (SERVICE_NAME). */
  serviceNamespace: string;
  /** GITHUB_ORG: the repositories' owner, for links and `vcs_repository_owner`; undefined when unknown. */
  owner: string | undefined;
  now: EpochMs;
  /** See Config['writes']['maxBackdateMs']. */
  maxBackdateMs: number;
}

/**
 * The time an event is stored at in Loki: its own time when recent, else `maxBackdateMs` before now
 * (Loki refuses entries far behind the newest of their stream), never in the future. Queries select by
 * this time; the reader takes the event's times from the JSON line.
 */
export function storageTime(eventMs: EpochMs, context: Pick<WriteContext, 'now' | 'maxBackdateMs'>): EpochMs {
  return Math.min(context.now, Math.max(eventMs, context.now - context.maxBackdateMs));
}

function repositoryParts(repository: string, context: WriteContext) {
  const owner = context.owner;
  const htmlUrl = owner === undefined ? undefined : `https://github.com/${owner}/${repository}`;
  const labels: Record<string, string> = {
    service_name: repository,
    service_namespace: context.serviceNamespace,
    source: WRITE_SOURCE,
    vcs_repository_name: repository,
    ...(owner === undefined ? {} : { vcs_repository_owner: owner }),
    ...(htmlUrl === undefined ? {} : { vcs_repository_url_full: htmlUrl }),
  };
  const json =
    owner === undefined
      ? { name: repository }
      : { full_name: `${owner}/${repository}`, html_url: htmlUrl, name: repository, owner: { login: owner } };
  return { labels, json, htmlUrl };
}

/** A stable id for a reported deployment, so a retried report is the same event (Loki drops exact repeats). */
export function deploymentId(parts: readonly string[]): string {
  return `${WRITE_SOURCE}-${createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 16)}`;
}

export interface DeploymentInput {
  repository: string;
  team: string | undefined;
  sha: string;
  environment: string;
  status: 'success' | 'failure';
  createdAt: EpochMs;
  url: string | undefined;
}

export function deploymentEntry(input: DeploymentInput, context: WriteContext): LokiEntry {
  const repository = repositoryParts(input.repository, context);
  const createdAt = formatTime(input.createdAt);
  const id = deploymentId([input.repository, input.environment, input.sha, input.status, createdAt]);
  const labels: Record<string, string> = {
    ...repository.labels,
    deployment_environment_name: input.environment,
    deployment_id: id,
    deployment_status: input.status,
    event_name: 'deployment_created',
    vcs_repository_ref_revision: input.sha,
    ...(input.team === undefined ? {} : { team_name: input.team }),
  };
  const line = {
    action: 'created',
    deployment: {
      created_at: createdAt,
      environment: input.environment,
      id,
      sha: input.sha,
      task: 'deploy',
      ...(input.url === undefined ? {} : { url: input.url }),
    },
    deployment_status: { created_at: createdAt, environment: input.environment, state: input.status },
    repository: repository.json,
    // The reader links a deployment to workflow_run.html_url: the given link plays that part.
    workflow_run: input.url === undefined ? null : { html_url: input.url },
  };
  return {
    labels,
    // One nanosecond after the pull request's entry when both are stored at the same instant.
    timestampNs: timestampNs(storageTime(input.createdAt, context), 1),
    line: JSON.stringify(line),
  };
}

export interface MergeInput {
  repository: string;
  team: string | undefined;
  sha: string;
  title: string;
  user: string;
  mergedAt: EpochMs;
}

export function mergeEntry(input: MergeInput, context: WriteContext): LokiEntry {
  const repository = repositoryParts(input.repository, context);
  const mergedAt = formatTime(input.mergedAt);
  const labels: Record<string, string> = {
    ...repository.labels,
    event_name: 'change_closed',
    merge_sha: input.sha,
    merged_at: mergedAt,
    vcs_repository_change_title: input.title,
    vcs_repository_ref_revision: input.sha,
    ...(input.team === undefined ? {} : { team_name: input.team }),
  };
  const line = {
    action: 'closed',
    pull_request: {
      merge_commit_sha: input.sha,
      merged: true,
      merged_at: mergedAt,
      title: input.title,
      user: { login: input.user },
    },
    repository: repository.json,
  };
  return {
    labels,
    timestampNs: timestampNs(storageTime(input.mergedAt, context)),
    line: JSON.stringify(line),
  };
}

/** Open incidents are `issue_opened` events, resolved ones `issue_closed`, as GitHub issues would be. */
export function incidentEventName(closedAt: EpochMs | null): 'issue_opened' | 'issue_closed' {
  return closedAt === null ? 'issue_opened' : 'issue_closed';
}

export interface IncidentInput
  extends Pick<IncidentEvent, 'repository' | 'id' | 'title' | 'createdAt' | 'closedAt'> {
  team: string | undefined;
  /** The incident page; undefined links to the repository page (the id is not a GitHub issue number). */
  url: string | undefined;
  /** The issue label the reader looks for (the first of INCIDENT_LABELS). */
  incidentLabel: string;
  /** Loki time of this incident's previous entry: a new state is always stored after the one it replaces. */
  previousTimestampNs?: string | undefined;
}

/** The `incident_id` label: what POST /events/incidents looks earlier reports up by. */
export const INCIDENT_ID_LABEL = 'incident_id';

export function incidentEntry(input: IncidentInput, context: WriteContext): LokiEntry {
  const repository = repositoryParts(input.repository, context);
  const createdAt = formatTime(input.createdAt);
  const closedAt = input.closedAt === null ? null : formatTime(input.closedAt);
  const labels: Record<string, string> = {
    ...repository.labels,
    created_at: createdAt,
    event_name: incidentEventName(input.closedAt),
    [INCIDENT_ID_LABEL]: input.id,
    ...(closedAt === null ? {} : { closed_at: closedAt }),
    ...(input.team === undefined ? {} : { team_name: input.team }),
  };
  const htmlUrl = input.url ?? repository.htmlUrl;
  const line = {
    action: closedAt === null ? 'opened' : 'closed',
    issue: {
      closed_at: closedAt,
      created_at: createdAt,
      ...(htmlUrl === undefined ? {} : { html_url: htmlUrl }),
      labels: [{ name: input.incidentLabel }],
      number: input.id,
      state: closedAt === null ? 'open' : 'closed',
      title: input.title,
    },
    repository: repository.json,
  };
  let stored = BigInt(timestampNs(storageTime(input.closedAt ?? input.createdAt, context)));
  if (input.previousTimestampNs !== undefined && stored <= BigInt(input.previousTimestampNs)) {
    stored = BigInt(input.previousTimestampNs) + 1000n;
  }
  return { labels, timestampNs: String(stored), line: JSON.stringify(line) };
}

/** What GitHub's `issues` webhook says about an issue after one action (the collector keeps these fields). */
export interface IssueEventInput {
  repository: string;
  team: string | undefined;
  /** `opened`, `closed`, `reopened`, `labeled`, `unlabeled`, `deleted`, ... (GitHub's `action`). */
  action: string;
  number: number;
  state: 'open' | 'closed';
  /** The issue's labels after the action. */
  labels: readonly string[];
  createdAt: EpochMs;
  closedAt: EpochMs | null;
  /** When GitHub sent the event: the entry's Loki time, which orders the events of one issue. */
  sentAt: EpochMs;
  title?: string | undefined;
}

/**
 * A GitHub issue event in the collector's shape (`event_name="issue_<action>"`, the issue as the action left
 * it): what lib/loki/parse.ts reads for incidents opened, closed, reopened and relabelled on GitHub. The reader
 * does not look at `source`, so events received by this API and by the collector count alike.
 */
export function issueEntry(input: IssueEventInput, context: WriteContext): LokiEntry {
  const repository = repositoryParts(input.repository, context);
  const createdAt = formatTime(input.createdAt);
  const closedAt = input.closedAt === null ? null : formatTime(input.closedAt);
  const labels: Record<string, string> = {
    ...repository.labels,
    created_at: createdAt,
    event_name: `issue_${input.action}`,
    ...(closedAt === null ? {} : { closed_at: closedAt }),
    ...(input.team === undefined ? {} : { team_name: input.team }),
  };
  const line = {
    action: input.action,
    issue: {
      closed_at: closedAt,
      created_at: createdAt,
      ...(repository.htmlUrl === undefined
        ? {}
        : { html_url: `${repository.htmlUrl}/issues/${input.number}` }),
      labels: input.labels.map((name) => ({ name })),
      number: input.number,
      state: input.state,
      ...(input.title === undefined ? {} : { title: input.title }),
    },
    repository: repository.json,
  };
  return { labels, timestampNs: timestampNs(input.sentAt), line: JSON.stringify(line) };
}
