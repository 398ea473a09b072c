import { formatOptionalTime, formatTime } from './time';
import type {
  DeploymentEvent,
  DeploymentRecord,
  EpochMs,
  EventBatch,
  IncidentEvent,
  MergeEvent,
  ProductionDeployment,
  TimeRange,
} from './types';

export interface BuildOptions {
  /** Deployments created in [start, end) are returned; events outside it only inform them. */
  window: TimeRange;
  /** Environment names that count as production; compared exactly, ignoring case. */
  productionEnvironments: readonly string[];
  /** GitHub's team per repository, for deployment events that carry no `team_name`. */
  teamsByRepository?: ReadonlyMap<string, string>;
}

/**
 * The production deployments created in `options.window`, sorted by `createdAt` (then repository, sha),
 * with every DORA rule of the contract applied. Pure and linear apart from sorting.
 *
 * The events may reach outside the window and are used whole: merges before it give `merged_at`,
 * incidents and deployments after it give `failed_at`/`fixed_at`, and deployments before it (when the
 * caller passes any) count for repeat detection and may be the failures a deployment of the window fixes.
 *
 * Rules, per repository (the repository name is the key; owners are not compared):
 * - Production: the environment is one of `productionEnvironments`, exact and case-insensitive
 *   (`prod-eu` is production only when listed). Only final outcomes count: state `success`, or `failure`
 *   / `error` (both a failed deployment); `pending`, `in_progress`, `queued`, `inactive` events are ignored.
 * - Order: `createdAt`, ties by `deploymentId` (numerically when both are digits).
 * - Repeats: an event is dropped when the previous kept deployment of the repository has the same sha and
 *   the same outcome. So a re-run success of the running sha is a duplicate, a failure followed by a
 *   success of the same sha is two deployments (the success fixes the failure), a success followed by a
 *   failure of the same sha is two deployments, and a return to an older sha (a rollback, another sha in
 *   between) is a deployment of its own.
 * - Merge: the merged pull request of the same repository whose merge commit is the sha (earliest merge if
 *   several events name it).
 * - Failure: a `failure` deployment has `failedAt = createdAt`. A successful deployment with incidents
 *   created in [its createdAt, the next kept deployment's createdAt) has `failedAt` = the earliest such
 *   incident's creation, `issueUrl` = its link, and `fixedAt` = the latest closing when all of them are
 *   closed, null while any is open. Incidents created while a failed deployment is the latest one are not
 *   linked (that deployment already failed); incidents before the repository's first deployment are ignored.
 *   Events of one incident (same repository and id) are merged: earliest creation, latest closing.
 * - Fix: every failed deployment still without `fixedAt` (a run of failures, or incidents still open) is
 *   fixed by the next healthy deployment (successful and not itself failed) of the repository:
 *   `fixedAt` = its createdAt, `fixedUrl` = its link, and that deployment gets `fixesFailure = true`.
 *   The fixer may lie after the window; without one `fixedAt` stays null.
 * - Team: the event's `team_name`, else `teamsByRepository`, else null.
 * - Change link: `https://github.com/<owner>/<repository>/commit/<sha>` with the event's owner, else the
 *   owner any other event of the repository names, else the owner in a github.com `deployUrl`; `""` when
 *   no owner is known (a guessed link would be a broken one).
 */
export function buildDeployments(events: EventBatch, options: BuildOptions): ProductionDeployment[] {
  const productionNames = new Set(options.productionEnvironments.map((name) => name.toLowerCase()));
  const deploymentsByRepository = groupBy(
    events.deployments.filter(
      (event) => productionNames.has(event.environment.toLowerCase()) && outcomeOf(event.state) !== null,
    ),
    (event) => event.repository,
  );
  const incidentsByRepository = incidentsPerRepository(events.incidents);
  const mergesBySha = mergesByRepositoryAndSha(events.merges);
  const ownersByRepository = knownOwners(events);
  const { start, end } = options.window;

  const result: ProductionDeployment[] = [];
  for (const [repository, repositoryEvents] of deploymentsByRepository) {
    const deployments = dropRepeats(repositoryEvents.sort(byCreationThenId));
    const assessments = assessFailures(deployments, incidentsByRepository.get(repository) ?? []);
    deployments.forEach((event, index) => {
      const assessment = assessments[index];
      if (assessment === undefined || event.createdAt < start || event.createdAt >= end) return;
      const owner = event.owner ?? ownersByRepository.get(repository) ?? githubOwnerOf(event.url);
      result.push({
        repository,
        owner,
        team: event.team ?? options.teamsByRepository?.get(repository) ?? null,
        environment: event.environment,
        sha: event.sha,
        createdAt: event.createdAt,
        success: outcomeOf(event.state) === 'success',
        deployUrl: event.url,
        changeUrl: owner === null ? '' : `https://github.com/${owner}/${repository}/commit/${event.sha}`,
        ...assessment,
        merge: mergesBySha.get(mergeKey(repository, event.sha)) ?? null,
      });
    });
  }
  // Stable: equal keys keep the per-repository order (deploymentId ties).
  return result.sort(
    (a, b) =>
      a.createdAt - b.createdAt || compareText(a.repository, b.repository) || compareText(a.sha, b.sha),
  );
}

/** The `/data` record of a deployment: always the 15 contract keys in contract order, null where unknown. */
export function toRecord(deployment: ProductionDeployment): DeploymentRecord {
  return {
    repository: deployment.repository,
    team: deployment.team,
    title: deployment.merge?.title ?? null,
    user: deployment.merge?.user ?? null,
    sha: deployment.sha,
    status: deployment.success,
    failed_at: formatOptionalTime(deployment.failedAt),
    merged_at: formatOptionalTime(deployment.merge?.mergedAt ?? null),
    created_at: formatTime(deployment.createdAt),
    fixed_at: formatOptionalTime(deployment.fixedAt),
    fixed_url: deployment.fixedUrl,
    deploy_url: deployment.deployUrl,
    issue_url: deployment.issueUrl,
    change_url: deployment.changeUrl,
    total_cycle_time: null,
  };
}

export function toRecords(deployments: readonly ProductionDeployment[]): DeploymentRecord[] {
  return deployments.map(toRecord);
}

type Outcome = 'success' | 'failure';

function outcomeOf(state: string): Outcome | null {
  switch (state.toLowerCase()) {
    case 'success':
      return 'success';
    case 'failure':
    case 'error':
      return 'failure';
    default:
      return null;
  }
}

type FailureFields = Pick<
  ProductionDeployment,
  'failedAt' | 'fixedAt' | 'fixedUrl' | 'issueUrl' | 'fixesFailure'
>;

/**
 * One sweep over a repository's deployments and incidents, both in time order.
 * `deployments` must be sorted and free of repeats; `incidents` sorted by creation.
 */
function assessFailures(
  deployments: readonly DeploymentEvent[],
  incidents: readonly IncidentEvent[],
): FailureFields[] {
  const assessments: FailureFields[] = [];
  const awaitingFix: FailureFields[] = [];
  let nextIncident = 0;
  const firstDeploymentAt = deployments[0]?.createdAt ?? Number.POSITIVE_INFINITY;
  while ((incidents[nextIncident]?.createdAt ?? Number.POSITIVE_INFINITY) < firstDeploymentAt)
    nextIncident += 1;

  deployments.forEach((deployment, index) => {
    const nextDeploymentAt = deployments[index + 1]?.createdAt ?? Number.POSITIVE_INFINITY;
    const ownIncidents: IncidentEvent[] = [];
    for (
      let incident = incidents[nextIncident];
      incident !== undefined && incident.createdAt < nextDeploymentAt;
    ) {
      ownIncidents.push(incident);
      nextIncident += 1;
      incident = incidents[nextIncident];
    }

    const assessment: FailureFields = {
      failedAt: null,
      fixedAt: null,
      fixedUrl: null,
      issueUrl: null,
      fixesFailure: false,
    };
    const firstIncident = ownIncidents[0];
    if (outcomeOf(deployment.state) === 'failure') {
      assessment.failedAt = deployment.createdAt;
    } else if (firstIncident !== undefined) {
      assessment.failedAt = firstIncident.createdAt;
      assessment.issueUrl = firstIncident.url;
      assessment.fixedAt = latestClosing(ownIncidents);
    }

    if (assessment.failedAt === null) {
      for (const failure of awaitingFix) {
        failure.fixedAt = deployment.createdAt;
        failure.fixedUrl = deployment.url;
      }
      assessment.fixesFailure = awaitingFix.length > 0;
      awaitingFix.length = 0;
    } else if (assessment.fixedAt === null) {
      awaitingFix.push(assessment);
    }
    assessments.push(assessment);
  });
  return assessments;
}

/** The latest closing, or null while any of the incidents is still open. */
function latestClosing(incidents: readonly IncidentEvent[]): EpochMs | null {
  let latest = Number.NEGATIVE_INFINITY;
  for (const incident of incidents) {
    if (incident.closedAt === null) return null;
    latest = Math.max(latest, incident.closedAt);
  }
  return latest;
}

function dropRepeats(sorted: readonly DeploymentEvent[]): DeploymentEvent[] {
  const kept: DeploymentEvent[] = [];
  let previous: DeploymentEvent | undefined;
  for (const event of sorted) {
    if (previous?.sha === event.sha && outcomeOf(previous.state) === outcomeOf(event.state)) continue;
    kept.push(event);
    previous = event;
  }
  return kept;
}

/** One entry per incident (repository and id), sorted by creation then id, grouped by repository. */
function incidentsPerRepository(incidents: readonly IncidentEvent[]): Map<string, IncidentEvent[]> {
  const byKey = new Map<string, IncidentEvent>();
  for (const incident of incidents) {
    const key = `${incident.repository}\u0000${incident.id}`;
    const seen = byKey.get(key);
    if (seen === undefined) {
      byKey.set(key, incident);
      continue;
    }
    // A closing event is the later state of an issue than an open one, so any closing wins.
    const closings = [seen.closedAt, incident.closedAt].filter((time): time is EpochMs => time !== null);
    byKey.set(key, {
      ...seen,
      createdAt: Math.min(seen.createdAt, incident.createdAt),
      closedAt: closings.length === 0 ? null : Math.max(...closings),
    });
  }
  const grouped = groupBy(byKey.values(), (incident) => incident.repository);
  for (const list of grouped.values()) {
    list.sort((a, b) => a.createdAt - b.createdAt || compareIds(a.id, b.id));
  }
  return grouped;
}

function mergeKey(repository: string, sha: string): string {
  return `${repository}\u0000${sha}`;
}

function mergesByRepositoryAndSha(merges: readonly MergeEvent[]): Map<string, MergeEvent> {
  const bySha = new Map<string, MergeEvent>();
  for (const merge of merges) {
    const key = mergeKey(merge.repository, merge.sha);
    const seen = bySha.get(key);
    if (seen === undefined || merge.mergedAt < seen.mergedAt) bySha.set(key, merge);
  }
  return bySha;
}

/** The first owner any event names for each repository (all environments count). */
function knownOwners(events: EventBatch): Map<string, string> {
  const owners = new Map<string, string>();
  for (const list of [events.deployments, events.merges, events.incidents]) {
    for (const event of list) {
      if (event.owner !== null && !owners.has(event.repository)) owners.set(event.repository, event.owner);
    }
  }
  return owners;
}

/** `liatrio` from `https://github.com/liatrio/...`; null for any other host or an unparsable link. */
function githubOwnerOf(url: string): string | null {
  if (!URL.canParse(url)) return null;
  const parsed = new URL(url);
  if (parsed.hostname !== 'github.com' && parsed.hostname !== 'www.github.com') return null;
  const owner = parsed.pathname.split('/')[1];
  return owner === undefined || owner === '' ? null : owner;
}

function byCreationThenId(a: DeploymentEvent, b: DeploymentEvent): number {
  return a.createdAt - b.createdAt || compareIds(a.deploymentId, b.deploymentId);
}

/** GitHub ids are decimal strings: compare them as numbers without losing precision, else as text. */
function compareIds(a: string, b: string): number {
  if (/^\d+$/.test(a) && /^\d+$/.test(b) && a.length !== b.length) return a.length - b.length;
  return compareText(a, b);
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function groupBy<T>(items: Iterable<T>, keyOf: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const key = keyOf(item);
    const group = groups.get(key);
    if (group === undefined) groups.set(key, [item]);
    else group.push(item);
  }
  return groups;
}
