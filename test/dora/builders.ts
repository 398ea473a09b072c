import type { DeploymentEvent, EpochMs, EventBatch, IncidentEvent, MergeEvent } from '../../lib/dora/types';

/**
 * Small factories for hand-made DORA scenarios: every field has a plausible default, so a test names
 * only what its rule is about. Times are written as RFC 3339 text (`at('2024-09-02T10:00:00Z')`).
 */

/** Epoch ms of an RFC 3339 time; throws on a typo so a scenario never runs with NaN. */
export function at(time: string): EpochMs {
  const ms = Date.parse(time);
  if (Number.isNaN(ms)) throw new Error(`not a time: ${time}`);
  return ms;
}

let sequence = 0;
function nextId(): string {
  sequence += 1;
  return String(1_000_000 + sequence);
}

export type DeploymentInput = Partial<Omit<DeploymentEvent, 'createdAt'>> & { createdAt?: EpochMs | string };

export function deployment(input: DeploymentInput = {}): DeploymentEvent {
  const { createdAt, ...rest } = input;
  const repository = rest.repository ?? 'checkout';
  const deploymentId = rest.deploymentId ?? nextId();
  return {
    repository,
    owner: 'acme',
    team: 'payments',
    environment: 'production',
    sha: 'a1a1a1a1',
    deploymentId,
    state: 'success',
    url: `https://github.com/acme/${repository}/actions/runs/${deploymentId}`,
    ...rest,
    createdAt: toMs(createdAt ?? '2024-09-02T10:00:00Z'),
  };
}

export type IncidentInput = Partial<Omit<IncidentEvent, 'createdAt' | 'closedAt'>> & {
  createdAt?: EpochMs | string;
  closedAt?: EpochMs | string | null;
};

export function incident(input: IncidentInput = {}): IncidentEvent {
  const { createdAt, closedAt, ...rest } = input;
  const repository = rest.repository ?? 'checkout';
  const id = rest.id ?? nextId();
  return {
    repository,
    owner: 'acme',
    team: 'payments',
    id,
    title: `incident ${id}`,
    url: `https://github.com/acme/${repository}/issues/${id}`,
    ...rest,
    createdAt: toMs(createdAt ?? '2024-09-02T12:00:00Z'),
    closedAt:
      closedAt === undefined ? toMs('2024-09-02T14:00:00Z') : closedAt === null ? null : toMs(closedAt),
  };
}

export type MergeInput = Partial<Omit<MergeEvent, 'mergedAt'>> & { mergedAt?: EpochMs | string };

export function merge(input: MergeInput = {}): MergeEvent {
  const { mergedAt, ...rest } = input;
  const repository = rest.repository ?? 'checkout';
  const number = nextId();
  return {
    repository,
    owner: 'acme',
    team: 'payments',
    sha: 'a1a1a1a1',
    title: `change ${number}`,
    user: 'octocat',
    url: `https://github.com/acme/${repository}/pull/${number}`,
    ...rest,
    mergedAt: toMs(mergedAt ?? '2024-09-02T09:00:00Z'),
  };
}

export function batch(events: Partial<EventBatch> = {}): EventBatch {
  return {
    deployments: events.deployments ?? [],
    incidents: events.incidents ?? [],
    merges: events.merges ?? [],
  };
}

function toMs(time: EpochMs | string): EpochMs {
  return typeof time === 'number' ? time : at(time);
}
