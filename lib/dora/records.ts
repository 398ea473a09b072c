import { compareText, groupBy } from './collections';
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
 * The production deployments created in `options.window`, sorted by `createdAt`, then repository, then
 * deployment id (the order the rules were applied in), with every DORA rule of the contract applied.
 * Pure, and linear apart from sorting.
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
 *   Events of one incident (same repository and id) are merged: earliest creation, the latest state (by
 *   `stateAt`) for the rest, so a reopened issue is open again; an issue whose latest event withdrew it
 *   (incident label removed, deleted) is no incident.
 * - Open incidents: a deployment with an incident still open is failed with `fixedAt` null until every one
 *   of its incidents closes; no later deployment restores it.
 * - Fix: every failed deployment (`failure`/`error`) still without `fixedAt` (a run of failures) is
 *   fixed by the next healthy deployment (successful and not itself failed) of the repository:
 *   `fixedAt` = its createdAt, `fixedUrl` = its link, and that deployment gets `fixesFailure = true`.
 *   The fixer may lie after the window; without one `fixedAt` stays null.
 * - Team: the event's `team_name`, else `teamsByRepository`, else null.
 * - Change link: `https://github.com/<owner>/<repository>/commit/<sha>` with the event's owner, else the
 *   owner any other event of the repository names, else the owner in a github.com `deployUrl`; `""` when
 *   no owner is known (a guessed link would be a broken one).
 */
export function buildDeployments(events: EventBatch, options: BuildOptions): ProductionDeployment[] {
  const candidatesByRepository = productionCandidates(events.deployments, options.productionEnvironments);
  const incidentsByRepository = incidentsPerRepository(events.incidents, candidatesByRepository);
  const mergesByRepository = mergesPerRepository(events.merges, candidatesByRepository);
  const knownOwnerOf = knownOwnerLookup(events);
  const { start, end } = options.window;

  const result: ProductionDeployment[] = [];
  for (const [repository, candidates] of candidatesByRepository) {
    const deployments = dropRepeats(candidates.sort(byCreationThenId));
    const assessments = assessFailures(deployments, incidentsByRepository.get(repository) ?? []);
    const merges = mergesByRepository.get(repository);
    const team = options.teamsByRepository?.get(repository) ?? null;
    deployments.forEach(({ event, success }, index) => {
      const assessment = assessments[index];
      if (assessment === undefined || event.createdAt < start || event.createdAt >= end) return;
      const owner = event.owner ?? knownOwnerOf(repository) ?? githubOwnerOf(event.url);
      result.push({
        repository,
        owner,
        team: event.team ?? team,
        environment: event.environment,
        sha: event.sha,
        createdAt: event.createdAt,
        success,
        deployUrl: event.url,
        failedAt: assessment.failedAt,
        fixedAt: assessment.fixedAt,
        fixedUrl: assessment.fixedUrl,
        issueUrl: assessment.issueUrl,
        fixesFailure: assessment.fixesFailure,
        merge: merges?.get(event.sha) ?? null,
      });
    });
  }
  // Stable sort: deployments of one repository created at the same time keep their processing order
  // (by deployment id), so a fix never comes out before the failure it fixes.
  return result.sort((a, b) => a.createdAt - b.createdAt || compareText(a.repository, b.repository));
}

/**
 * The commit on GitHub, `""` when no owner is known. Built when a record is written, not kept on every
 * deployment: a year of an organisation held 100,000 of these links (13 MB) that `/metrics` never reads.
 */
export function changeUrlOf(deployment: Pick<ProductionDeployment, 'owner' | 'repository' | 'sha'>): string {
  return deployment.owner === null
    ? ''
    : `https://github.com/${deployment.owner}/${deployment.repository}/commit/${deployment.sha}`;
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
    change_url: changeUrlOf(deployment),
    total_cycle_time: null,
  };
}

export function toRecords(deployments: readonly ProductionDeployment[]): DeploymentRecord[] {
  return deployments.map(toRecord);
}

/** A production deployment event with its outcome read once. */
interface Candidate {
  event: DeploymentEvent;
  success: boolean;
}

/**
 * GitHub's final deployment states and whether each is a success (`error` is a deployment that could not
 * run: a failed one for DORA). The others (`pending`, `queued`, `in_progress`, `inactive`) are not outcomes.
 * lib/loki/logql.ts asks Loki for exactly these.
 */
export const DEPLOYMENT_OUTCOMES: ReadonlyMap<string, boolean> = new Map([
  ['success', true],
  ['failure', false],
  ['error', false],
]);

/** Whether a state is a final outcome: true for success, false for a failed deployment, null otherwise. */
function succeeded(state: string): boolean | null {
  return DEPLOYMENT_OUTCOMES.get(state.toLowerCase()) ?? null;
}

function productionCandidates(
  deployments: readonly DeploymentEvent[],
  productionEnvironments: readonly string[],
): Map<string, Candidate[]> {
  const productionNames = new Set(productionEnvironments.map((name) => name.toLowerCase()));
  const byRepository = new Map<string, Candidate[]>();
  for (const event of deployments) {
    if (!productionNames.has(event.environment) && !productionNames.has(event.environment.toLowerCase()))
      continue;
    const success = succeeded(event.state);
    if (success === null) continue;
    const group = byRepository.get(event.repository);
    if (group === undefined) byRepository.set(event.repository, [{ event, success }]);
    else group.push({ event, success });
  }
  return byRepository;
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
  deployments: readonly Candidate[],
  incidents: readonly IncidentEvent[],
): FailureFields[] {
  const assessments: FailureFields[] = [];
  const awaitingFix: FailureFields[] = [];
  let nextIncident = 0;
  const firstDeploymentAt = deployments[0]?.event.createdAt ?? Number.POSITIVE_INFINITY;
  while ((incidents[nextIncident]?.createdAt ?? Number.POSITIVE_INFINITY) < firstDeploymentAt)
    nextIncident += 1;

  deployments.forEach(({ event: deployment, success }, index) => {
    const nextDeploymentAt = deployments[index + 1]?.event.createdAt ?? Number.POSITIVE_INFINITY;
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
    // A deployment whose incident is still open has failed now and is restored only when the incident
    // closes: a later deployment while the issue stays open did not restore the service.
    let openIncident = false;
    if (!success) {
      assessment.failedAt = deployment.createdAt;
    } else if (firstIncident !== undefined) {
      assessment.failedAt = firstIncident.createdAt;
      assessment.issueUrl = firstIncident.url;
      assessment.fixedAt = latestClosing(ownIncidents);
      openIncident = assessment.fixedAt === null;
    }

    if (assessment.failedAt === null) {
      for (const failure of awaitingFix) {
        failure.fixedAt = deployment.createdAt;
        failure.fixedUrl = deployment.url;
      }
      assessment.fixesFailure = awaitingFix.length > 0;
      awaitingFix.length = 0;
    } else if (assessment.fixedAt === null && !openIncident) {
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

function dropRepeats(sorted: readonly Candidate[]): Candidate[] {
  const kept: Candidate[] = [];
  let previous: Candidate | undefined;
  for (const candidate of sorted) {
    if (previous?.event.sha === candidate.event.sha && previous.success === candidate.success) continue;
    kept.push(candidate);
    previous = candidate;
  }
  return kept;
}

/**
 * One entry per incident (repository and id), sorted by creation then id, grouped by repository;
 * only for the repositories that have production deployments.
 */
function incidentsPerRepository(
  incidents: readonly IncidentEvent[],
  relevant: ReadonlyMap<string, unknown>,
): Map<string, IncidentEvent[]> {
  const byKey = new Map<string, IncidentEvent>();
  for (const incident of incidents) {
    if (!relevant.has(incident.repository)) continue;
    const key = `${incident.repository}\u0000${incident.id}`;
    const seen = byKey.get(key);
    if (seen === undefined) {
      byKey.set(key, incident);
      continue;
    }
    // The latest state wins (closed, reopened, relabelled, as GitHub shows the issue); the creation is the
    // earliest any event names.
    const newer = incidentStateTime(incident) >= incidentStateTime(seen) ? incident : seen;
    byKey.set(key, { ...newer, createdAt: Math.min(seen.createdAt, incident.createdAt) });
  }
  for (const [key, incident] of byKey) if (incident.withdrawn === true) byKey.delete(key);
  const grouped = groupBy(byKey.values(), (incident) => incident.repository);
  for (const list of grouped.values()) {
    list.sort((a, b) => a.createdAt - b.createdAt || compareIds(a.id, b.id));
  }
  return grouped;
}

/** When an incident event's state was seen: `stateAt`, else its closing, else its creation. */
function incidentStateTime(incident: IncidentEvent): EpochMs {
  return incident.stateAt ?? incident.closedAt ?? incident.createdAt;
}

/** Repository -> merge commit sha -> earliest merge naming it; only for repositories in `relevant`. */
function mergesPerRepository(
  merges: readonly MergeEvent[],
  relevant: ReadonlyMap<string, unknown>,
): Map<string, Map<string, MergeEvent>> {
  const byRepository = new Map<string, Map<string, MergeEvent>>();
  for (const merge of merges) {
    if (!relevant.has(merge.repository)) continue;
    let bySha = byRepository.get(merge.repository);
    if (bySha === undefined) {
      bySha = new Map();
      byRepository.set(merge.repository, bySha);
    }
    const seen = bySha.get(merge.sha);
    if (seen === undefined || merge.mergedAt < seen.mergedAt) bySha.set(merge.sha, merge);
  }
  return byRepository;
}

/**
 * The first owner any event names for a repository (all environments count). Indexed on first use only:
 * deployment events almost always name their owner themselves.
 */
function knownOwnerLookup(events: EventBatch): (repository: string) => string | undefined {
  let owners: Map<string, string> | undefined;
  return (repository) => {
    if (owners === undefined) {
      owners = new Map();
      for (const list of [events.deployments, events.merges, events.incidents]) {
        for (const event of list) {
          if (event.owner !== null && !owners.has(event.repository))
            owners.set(event.repository, event.owner);
        }
      }
    }
    return owners.get(repository);
  };
}

/** `liatrio` from `https://github.com/liatrio/...`; null for any other host or an unparsable link. */
function githubOwnerOf(url: string): string | null {
  if (!URL.canParse(url)) return null;
  const parsed = new URL(url);
  if (parsed.hostname !== 'github.com' && parsed.hostname !== 'www.github.com') return null;
  const owner = parsed.pathname.split('/')[1];
  return owner === undefined || owner === '' ? null : owner;
}

function byCreationThenId({ event: a }: Candidate, { event: b }: Candidate): number {
  return a.createdAt - b.createdAt || compareIds(a.deploymentId, b.deploymentId);
}

/** GitHub ids are decimal strings: compare them as numbers without losing precision, else as text. */
function compareIds(a: string, b: string): number {
  if (/^\d+$/.test(a) && /^\d+$/.test(b) && a.length !== b.length) return a.length - b.length;
  return compareText(a, b);
}
