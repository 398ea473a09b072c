import type { DeploymentEvent, EpochMs, IncidentEvent, MergeEvent } from '../dora/types';
import { boundedMemo } from '../memo';
import type { EventKind } from './logql';
import type { LokiEntry } from './types';

/**
 * The only module that knows the shapes of Loki's answers and of the collector's JSON lines
 * (GitHub webhook payloads). Anything unexpected makes a line count as skipped; nothing here throws
 * because of one bad line.
 */

type Labels = Record<string, string>;
// biome-ignore lint/suspicious/noExplicitAny: webhook payloads are untyped JSON, read defensively below
type Json = any;

// ---------------------------------------------------------------------------------------------
// query_range bodies

export interface StreamEntry {
  labels: Labels;
  timestampNs: string;
  line: string;
}

/**
 * Calls `visit` for every entry of a `query_range` answer. Accepts both forms Loki answers in: structured
 * metadata merged into `stream`, and `categorize-labels` (metadata as a third element of each value).
 * Returns the number of entries, or throws when the body is not a streams answer at all.
 */
export function forEachEntry(body: Json, visit: (entry: StreamEntry) => void): number {
  const result = body?.data?.result;
  if (body?.status !== 'success' || !Array.isArray(result)) {
    throw new Error('Loki answered something that is not a query_range streams result');
  }
  let count = 0;
  for (const stream of result) {
    const streamLabels: Labels = stream?.stream ?? {};
    const values = stream?.values;
    if (!Array.isArray(values)) continue;
    for (const value of values) {
      const timestampNs = value?.[0];
      const line = value?.[1];
      if (typeof timestampNs !== 'string' || typeof line !== 'string') continue;
      const categorized = value[2];
      const labels =
        categorized && typeof categorized === 'object'
          ? { ...streamLabels, ...categorized.structuredMetadata, ...categorized.parsed }
          : streamLabels;
      count += 1;
      visit({ labels, timestampNs, line });
    }
  }
  return count;
}

// ---------------------------------------------------------------------------------------------
// helpers

function text(value: unknown): string | undefined {
  if (typeof value === 'string') return value === '' ? undefined : value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

function epochMs(value: unknown): EpochMs | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

function parseLine(line: string): Json {
  if (line.length === 0 || line.charCodeAt(0) !== 123 /* { */) return undefined;
  try {
    return JSON.parse(line);
  } catch {
    return undefined;
  }
}

const GITHUB = 'https://github.com';
const API_REPOS = /^https:\/\/api\.github\.com\/repos\/([^/]+)\/([^/]+)\/(?:pulls|issues|deployments)\/(\d+)/;

function isHttpsUrl(value: unknown): value is string {
  return typeof value === 'string' && value.startsWith('https://') && !/\s/.test(value);
}

interface RepositoryRef {
  repository: string;
  owner: string | null;
  team: string | null;
  /** `https://github.com/<owner>/<repo>` (or the enterprise server's page), null when unknown. */
  htmlUrl: string | null;
}

function repositoryOf(labels: Labels, payload: Json): RepositoryRef | undefined {
  const repo = payload?.repository;
  const fullName: string | undefined = text(repo?.full_name);
  const repository = text(labels.vcs_repository_name) ?? text(repo?.name) ?? fullName?.split('/')[1];
  if (repository === undefined) return undefined;
  const owner =
    text(labels.vcs_repository_owner) ?? text(repo?.owner?.login) ?? fullName?.split('/')[0] ?? null;
  const htmlUrl = isHttpsUrl(repo?.html_url)
    ? repo.html_url
    : isHttpsUrl(labels.vcs_repository_url_full)
      ? labels.vcs_repository_url_full
      : owner !== null
        ? `${GITHUB}/${encodeURIComponent(owner)}/${encodeURIComponent(repository)}`
        : null;
  return {
    repository,
    owner,
    team: text(labels.team_name) ?? null,
    htmlUrl: htmlUrl?.replace(/\/+$/, '') ?? null,
  };
}

// ---------------------------------------------------------------------------------------------
// events

/** A deployment status event; undefined when the line lacks what a deployment needs. */
export function parseDeployment(labels: Labels, line: string): DeploymentEvent | undefined {
  const payload = parseLine(line);
  if (payload === undefined) return undefined;
  const repo = repositoryOf(labels, payload);
  const deployment = payload.deployment;
  const sha = text(deployment?.sha) ?? text(labels.vcs_repository_ref_revision);
  const deploymentId = text(deployment?.id) ?? text(labels.deployment_id);
  const state = text(payload.deployment_status?.state) ?? text(labels.deployment_status);
  const environment =
    text(labels.deployment_environment_name) ??
    text(payload.deployment_status?.environment) ??
    text(deployment?.environment);
  const createdAt = epochMs(deployment?.created_at);
  if (!repo || !sha || !deploymentId || !state || !environment || createdAt === undefined) return undefined;
  const url = deploymentUrl(repo, payload.workflow_run, environment);
  if (url === undefined) return undefined;
  return {
    repository: repo.repository,
    owner: repo.owner,
    team: repo.team,
    environment,
    sha,
    deploymentId,
    state,
    createdAt,
    url,
  };
}

/** The workflow run that deployed, else the environment's deployments page; never the workflow definition. */
function deploymentUrl(repo: RepositoryRef, run: Json, environment: string): string | undefined {
  if (isHttpsUrl(run?.html_url)) return run.html_url;
  if (repo.htmlUrl === null) return undefined;
  const runId = text(run?.id);
  if (runId !== undefined && /^\d+$/.test(runId)) return `${repo.htmlUrl}/actions/runs/${runId}`;
  const { htmlUrl } = repo;
  return deploymentsPages(
    `${htmlUrl}\u0000${environment}`,
    () => `${htmlUrl}/deployments/${encodeURIComponent(environment)}`,
  );
}

/**
 * The environments' deployments pages, one string per repository and environment: most deployment events
 * have no workflow run, and a year of them held ~45,000 copies of the same few hundred links.
 */
const deploymentsPages = boundedMemo<string>(2000);

/**
 * An issue event of an incident: an issue carrying one of `incidentLabels` (lower case), or one that just
 * stopped being an incident (`withdrawn`); undefined otherwise. Labels are checked here, exactly, because
 * the LogQL line filter only narrows. `timestampNs` (the entry's Loki time) orders the events of one issue.
 */
export function parseIncident(
  labels: Labels,
  line: string,
  incidentLabels: ReadonlySet<string>,
  timestampNs?: string,
): IncidentEvent | undefined {
  const incident = readIssue(labels, line, incidentLabels, timestampNs);
  return incident === NOT_AN_INCIDENT ? undefined : incident;
}

const NOT_AN_INCIDENT = Symbol('not an incident');

/**
 * The issue actions the collector writes as `issue_<action>` (GitHub's `issues` webhook). The payload's
 * `issue` is the issue after the action: `labeled`/`unlabeled` carry the new label set, `reopened` an open
 * state with `closed_at: null`.
 */
export const ISSUE_ACTIONS = ['closed', 'deleted', 'labeled', 'opened', 'reopened', 'unlabeled'] as const;

/** Actions after which an issue without an incident label is no longer an incident (it may have been one). */
const WITHDRAWING_ACTIONS: ReadonlySet<string> = new Set(['unlabeled', 'deleted']);

function issueAction(labels: Labels, payload: Json): string | undefined {
  const action = text(payload?.action);
  if (action !== undefined) return action.toLowerCase();
  const eventName = text(labels.event_name);
  return eventName?.startsWith('issue_') ? eventName.slice('issue_'.length).toLowerCase() : undefined;
}

/**
 * An issue event as an incident, NOT_AN_INCIDENT for a well-formed issue event that says nothing about an
 * incident (the one-pass query brings every issue event: they are not events of ours, not lines to count as
 * skipped), undefined when the line is not an issue event at all.
 *
 * State, as GitHub shows the issue after the event: closed when `issue.state` is `closed` (or, without a
 * state, when it has a `closed_at`), open otherwise, so a reopened issue is open again. A `deleted` issue,
 * or an `unlabeled` one left without an incident label, is withdrawn.
 */
function readIssue(
  labels: Labels,
  line: string,
  incidentLabels: ReadonlySet<string>,
  timestampNs?: string,
): IncidentEvent | typeof NOT_AN_INCIDENT | undefined {
  const payload = parseLine(line);
  if (payload === undefined) return undefined;
  const issue = payload.issue;
  const repo = repositoryOf(labels, payload);
  const number = text(issue?.number);
  const createdAt = epochMs(issue?.created_at);
  if (!repo || number === undefined || createdAt === undefined) return undefined;
  const action = issueAction(labels, payload);
  const labelled = hasIncidentLabel(issue.labels, incidentLabels);
  const withdrawn = action === 'deleted' || (!labelled && WITHDRAWING_ACTIONS.has(action ?? ''));
  if (!labelled && !withdrawn) return NOT_AN_INCIDENT;
  const url = isHttpsUrl(issue.html_url)
    ? issue.html_url
    : repo.htmlUrl === null
      ? undefined
      : `${repo.htmlUrl}/issues/${number}`;
  if (url === undefined) return undefined;
  const state = text(issue.state)?.toLowerCase();
  const closedAtText = epochMs(issue.closed_at) ?? epochMs(labels.closed_at) ?? null;
  // A reopened issue is open whatever closing a label still remembers.
  const closedAt = state === 'open' || action === 'reopened' ? null : closedAtText;
  const seenAt = timestampNs === undefined ? undefined : nsToMs(timestampNs);
  return {
    repository: repo.repository,
    owner: repo.owner,
    team: repo.team,
    id: number,
    title: text(issue.title) ?? null,
    createdAt,
    closedAt,
    url,
    stateAt: seenAt ?? epochMs(issue.updated_at) ?? closedAt ?? createdAt,
    ...(withdrawn ? { withdrawn: true } : {}),
  };
}

/** Loki's nanosecond text as epoch ms; undefined for anything else. */
function nsToMs(timestampNs: string): EpochMs | undefined {
  if (!/^\d{1,19}$/.test(timestampNs)) return undefined;
  return Number(BigInt(timestampNs) / 1_000_000n);
}

function hasIncidentLabel(issueLabels: unknown, incidentLabels: ReadonlySet<string>): boolean {
  if (!Array.isArray(issueLabels)) return false;
  return issueLabels.some((label) => {
    const name = typeof label === 'string' ? label : label?.name;
    return typeof name === 'string' && incidentLabels.has(name.toLowerCase());
  });
}

/** A merged pull request; undefined when it was closed without merging or lacks its merge commit. */
export function parseMerge(labels: Labels, line: string): MergeEvent | undefined {
  const payload = parseLine(line);
  if (payload === undefined) return undefined;
  const pull = payload.pull_request;
  const repo = repositoryOf(labels, payload);
  const sha = text(pull?.merge_commit_sha) ?? text(labels.merge_sha);
  const mergedAt = epochMs(pull?.merged_at) ?? epochMs(labels.merged_at);
  if (!repo || !sha || mergedAt === undefined) return undefined;
  return {
    repository: repo.repository,
    owner: repo.owner,
    team: repo.team,
    sha,
    title: text(pull?.title) ?? text(labels.vcs_repository_change_title) ?? null,
    user: text(pull?.user?.login) ?? null,
    mergedAt,
    url: pullRequestUrl(pull, repo, text(payload.number)),
  };
}

function pullRequestUrl(pull: Json, repo: RepositoryRef, number: string | undefined): string | null {
  if (isHttpsUrl(pull?.html_url)) return pull.html_url;
  const api = typeof pull?.url === 'string' ? API_REPOS.exec(pull.url) : null;
  if (api) return `${GITHUB}/${api[1]}/${api[2]}/pull/${api[3]}`;
  const pullNumber = text(pull?.number) ?? number;
  return repo.htmlUrl !== null && pullNumber !== undefined ? `${repo.htmlUrl}/pull/${pullNumber}` : null;
}

// ---------------------------------------------------------------------------------------------
// batches

/**
 * The state of an issue after all its events: the latest by `stateAt` wins (GitHub shows the issue as its last
 * event left it: closed, reopened, relabelled); on a tie the later event in the list (events arrive in time
 * order), so an incident report that only changed its title or link replaces the earlier one. The creation
 * is the earliest any event names. Issues withdrawn by their latest event are left out.
 */
export function dedupeIncidents(incidents: readonly IncidentEvent[]): IncidentEvent[] {
  const latest = new Map<string, IncidentEvent>();
  for (const incident of incidents) {
    const key = `${incident.owner ?? ''}/${incident.repository}#${incident.id}`;
    const kept = latest.get(key);
    if (kept === undefined) {
      latest.set(key, incident);
      continue;
    }
    const createdAt = Math.min(kept.createdAt, incident.createdAt);
    const newer = stateTime(incident) >= stateTime(kept) ? incident : kept;
    latest.set(key, newer.createdAt === createdAt ? newer : { ...newer, createdAt });
  }
  return [...latest.values()].filter((incident) => incident.withdrawn !== true);
}

/** When an incident event's state was seen (IncidentEvent.stateAt, with its fallbacks). */
export function stateTime(incident: IncidentEvent): EpochMs {
  return incident.stateAt ?? incident.closedAt ?? incident.createdAt;
}

export interface EventCollector {
  deployments: DeploymentEvent[];
  incidents: IncidentEvent[];
  merges: MergeEvent[];
  lines: number;
  skippedLines: number;
}

export function newCollector(): EventCollector {
  return { deployments: [], incidents: [], merges: [], lines: 0, skippedLines: 0 };
}

export type LokiEvent = DeploymentEvent | IncidentEvent | MergeEvent;

/**
 * One entry read as `kind`, counted in `counts` (a line; a skipped line when it is not that kind of event);
 * undefined when it is not one. A well-formed issue without an incident label is neither.
 */
export function readEntry(
  kind: EventKind,
  entry: Pick<LokiEntry, 'labels' | 'line'> & Partial<Pick<LokiEntry, 'timestampNs'>>,
  incidentLabels: ReadonlySet<string>,
  counts: Pick<EventCollector, 'lines' | 'skippedLines'>,
): LokiEvent | undefined {
  counts.lines += 1;
  const event =
    kind === 'deployments'
      ? parseDeployment(entry.labels, entry.line)
      : kind === 'incidents'
        ? readIssue(entry.labels, entry.line, incidentLabels, entry.timestampNs)
        : parseMerge(entry.labels, entry.line);
  if (event === NOT_AN_INCIDENT) return undefined;
  if (event === undefined) counts.skippedLines += 1;
  return event;
}

/** Turns one entry into an event of `kind` and adds it to `into`, or counts it as skipped. */
export function collectEntry(
  kind: EventKind,
  entry: Pick<LokiEntry, 'labels' | 'line'> & Partial<Pick<LokiEntry, 'timestampNs'>>,
  incidentLabels: ReadonlySet<string>,
  into: EventCollector,
): void {
  const event = readEntry(kind, entry, incidentLabels, into);
  if (event !== undefined) (into[kind] as LokiEvent[]).push(event);
}

/** Entries (for example a fixture's) as events, incidents de-duplicated. */
export function eventsFromEntries(
  kind: EventKind,
  entries: readonly LokiEntry[],
  incidentLabels: readonly string[] = ['incident'],
): EventCollector {
  const collector = newCollector();
  const labelSet = incidentLabelSet(incidentLabels);
  for (const entry of entries) collectEntry(kind, entry, labelSet, collector);
  collector.incidents = dedupeIncidents(collector.incidents);
  return collector;
}

export function incidentLabelSet(incidentLabels: readonly string[]): ReadonlySet<string> {
  return new Set(incidentLabels.map((label) => label.toLowerCase()));
}
