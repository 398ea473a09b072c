import { buildDeployments, toRecords } from '../../lib/dora/records';
import type { DeploymentEvent, DeploymentRecord } from '../../lib/dora/types';
import { incidentEntry, type WriteContext } from '../../lib/events/entries';
import { eventsFromEntries } from '../../lib/loki/parse';
import type { LokiEntry } from '../../lib/loki/types';

/**
 * Incident issues as GitHub sends them, added to a generated organisation: the deployments they can be
 * pinned on, their histories, and the records the API must build from everything.
 */

const MINUTE = 60_000;

/**
 * The successful production deployments of `entries` created after `from` (and before `to`) that no
 * generated incident follows and that the next deployment of their repository follows no sooner than
 * `quietMs` (nothing follows the last one before `end`): an issue raised just after one is its incident alone.
 */
export function quietDeployments(
  entries: readonly LokiEntry[],
  window: { from: number; to?: number; end: number; quietMs: number },
): DeploymentEvent[] {
  const production = eventsFromEntries(
    'deployments',
    entries.filter((entry) => entry.labels.deployment_environment_name === 'production'),
  ).deployments.sort((a, b) => a.createdAt - b.createdAt);
  const incidentTimes = eventsFromEntries(
    'incidents',
    entries.filter((entry) => entry.labels.event_name?.startsWith('issue_')),
  ).incidents.map((incident) => incident.createdAt);
  return production.filter((deployment, index) => {
    const next = production.slice(index + 1).find((other) => other.repository === deployment.repository);
    const until = next?.createdAt ?? window.end;
    return (
      deployment.state === 'success' &&
      deployment.createdAt > window.from &&
      deployment.createdAt < (window.to ?? Number.POSITIVE_INFINITY) &&
      (next === undefined || next.createdAt - deployment.createdAt > window.quietMs) &&
      !incidentTimes.some((time) => time >= deployment.createdAt && time < until)
    );
  });
}

export interface IssueStep {
  action: string;
  state: 'open' | 'closed';
  labels: string[];
  /** Time after the issue was opened. */
  after: number;
}

/** An incident issue raised 5 minutes after `deployment`, then `steps` as GitHub sends them. */
export function issueHistory(
  deployment: DeploymentEvent,
  number: number,
  steps: readonly IssueStep[],
  context: WriteContext,
): LokiEntry[] {
  const createdAt = deployment.createdAt + 5 * MINUTE;
  return steps.map((step) =>
    incidentEntry(
      {
        repository: deployment.repository,
        team: undefined,
        action: step.action,
        id: String(number),
        title: null,
        url: `https://github.com/acme/${deployment.repository}/issues/${number}`,
        incidentLabel: 'incident',
        labels: step.labels,
        createdAt,
        closedAt: step.state === 'closed' ? createdAt + step.after : null,
        at: createdAt + step.after + 1000,
      },
      context,
    ),
  );
}

/**
 * `entries` with two incident issues on the first two of their quiet deployments (`quietDeployments`):
 * #90001 after `reopenedOn`, closed after 20 minutes and reopened after 40 (open again), and #90002 after
 * `unlabelledOn`, its incident label removed after 10 minutes and closed after 30 (no incident). Without two
 * quiet deployments, `entries` alone and the deployments undefined.
 */
export function withReopenedAndUnlabelledIssues(
  entries: readonly LokiEntry[],
  window: Parameters<typeof quietDeployments>[1],
  context: WriteContext,
): { entries: LokiEntry[]; reopenedOn?: DeploymentEvent; unlabelledOn?: DeploymentEvent } {
  const [reopenedOn, unlabelledOn] = quietDeployments(entries, window);
  if (reopenedOn === undefined || unlabelledOn === undefined) return { entries: [...entries] };
  const reopened = issueHistory(
    reopenedOn,
    90_001,
    [
      { action: 'opened', state: 'open', labels: ['incident'], after: 0 },
      { action: 'closed', state: 'closed', labels: ['incident'], after: 20 * MINUTE },
      { action: 'reopened', state: 'open', labels: ['incident'], after: 40 * MINUTE },
    ],
    context,
  );
  const unlabelled = issueHistory(
    unlabelledOn,
    90_002,
    [
      { action: 'opened', state: 'open', labels: ['incident'], after: 0 },
      { action: 'unlabeled', state: 'open', labels: [], after: 10 * MINUTE },
      { action: 'closed', state: 'closed', labels: [], after: 30 * MINUTE },
    ],
    context,
  );
  return { entries: [...entries, ...reopened, ...unlabelled], reopenedOn, unlabelledOn };
}

/** The records of [start, end) built from every event of `entries`, production being `production` or `prod`. */
export function expectedRecords(
  entries: readonly LokiEntry[],
  start: number,
  end: number,
): DeploymentRecord[] {
  const of = (kind: 'deployments' | 'incidents' | 'merges', match: (entry: LokiEntry) => boolean) =>
    eventsFromEntries(kind, entries.filter(match));
  return toRecords(
    buildDeployments(
      {
        deployments: of('deployments', (entry) => entry.labels.deployment_status !== undefined).deployments,
        incidents: of('incidents', (entry) => entry.labels.event_name?.startsWith('issue_') ?? false)
          .incidents,
        merges: of('merges', (entry) => entry.labels.event_name === 'change_closed').merges,
      },
      { window: { start, end }, productionEnvironments: ['production', 'prod'] },
    ),
  );
}

/** The record of `deployment` among `records` (same repository, commit and creation time). */
export function recordOf(
  records: readonly DeploymentRecord[],
  deployment: DeploymentEvent,
): DeploymentRecord | undefined {
  return records.find(
    (record) =>
      record.repository === deployment.repository &&
      record.sha === deployment.sha &&
      Date.parse(record.created_at) === deployment.createdAt,
  );
}
