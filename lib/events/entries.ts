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
  /** The deployment status' state: `success` or `failure` from the write route, any of GitHub's from a webhook. */
  status: string;
  createdAt: EpochMs;
  url: string | undefined;
  /** GitHub's deployment id (webhooks); otherwise one derived from the event, see `deploymentId`. */
  id?: string;
  /** The branch or tag deployed, when known. */
  ref?: string;
  /**
   * When this status was set, which is also the entry's Loki time exactly (webhooks: a redelivery then
   * builds the very same entry); default `createdAt`, stored at `storageTime`.
   */
  statusAt?: EpochMs;
}

export function deploymentEntry(input: DeploymentInput, context: WriteContext): LokiEntry {
  const repository = repositoryParts(input.repository, context);
  const createdAt = formatTime(input.createdAt);
  const id =
    input.id ?? deploymentId([input.repository, input.environment, input.sha, input.status, createdAt]);
  const statusAt = input.statusAt === undefined ? createdAt : formatTime(input.statusAt);
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
      ...(input.ref === undefined ? {} : { ref: input.ref }),
      sha: input.sha,
      task: 'deploy',
      ...(input.url === undefined ? {} : { url: input.url }),
    },
    deployment_status: { created_at: statusAt, environment: input.environment, state: input.status },
    repository: repository.json,
    // The reader links a deployment to workflow_run.html_url: the given link plays that part.
    workflow_run: input.url === undefined ? null : { html_url: input.url },
  };
  return {
    labels,
    // One nanosecond after the pull request's entry when both are stored at the same instant.
    timestampNs: timestampNs(input.statusAt ?? storageTime(input.createdAt, context), 1),
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
  /** The pull request's number and page, when known (webhooks). */
  number?: number;
  htmlUrl?: string;
  /** The entry's Loki time exactly (webhooks: the merge time, so a redelivery builds the same entry). */
  at?: EpochMs;
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
    ...(input.number === undefined ? {} : { number: input.number }),
    pull_request: {
      ...(input.htmlUrl === undefined ? {} : { html_url: input.htmlUrl }),
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
    timestampNs: timestampNs(input.at ?? storageTime(input.mergedAt, context)),
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
  /**
   * What happened to the issue (webhooks: `opened`, `closed`, `reopened`, `labeled`, `unlabeled`), the
   * line's `action` and `event_name` = `issue_<action>`; default from `closedAt`.
   */
  action?: string;
  /** Every label the issue carries (webhooks); default just `incidentLabel`. */
  labels?: readonly string[];
  /** The entry's Loki time exactly (webhooks: when the issue changed, so a redelivery builds the same entry). */
  at?: EpochMs;
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
    event_name: input.action === undefined ? incidentEventName(input.closedAt) : `issue_${input.action}`,
    [INCIDENT_ID_LABEL]: input.id,
    ...(closedAt === null ? {} : { closed_at: closedAt }),
    ...(input.team === undefined ? {} : { team_name: input.team }),
  };
  const htmlUrl = input.url ?? repository.htmlUrl;
  const line = {
    action: input.action ?? (closedAt === null ? 'opened' : 'closed'),
    issue: {
      closed_at: closedAt,
      created_at: createdAt,
      ...(htmlUrl === undefined ? {} : { html_url: htmlUrl }),
      labels: (input.labels ?? [input.incidentLabel]).map((name) => ({ name })),
      number: input.id,
      state: closedAt === null ? 'open' : 'closed',
      title: input.title,
    },
    repository: repository.json,
  };
  let stored = BigInt(timestampNs(input.at ?? storageTime(input.closedAt ?? input.createdAt, context)));
  if (input.previousTimestampNs !== undefined && stored <= BigInt(input.previousTimestampNs)) {
    stored = BigInt(input.previousTimestampNs) + 1000n;
  }
  return { labels, timestampNs: String(stored), line: JSON.stringify(line) };
}
