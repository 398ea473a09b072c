import type { MergeEvent, ProductionDeployment } from '../../lib/dora/types';

/** Epoch ms of an ISO time written without seconds noise: `at('2024-09-02T10:00')` is UTC. */
export function at(text: string): number {
  return Date.parse(text.endsWith('Z') ? text : `${text}Z`);
}

export const HOUR_S = 3600;
export const DAY_MS = 86_400_000;

let shaCounter = 0;

/** A production deployment with only what a scenario states; the rest neutral. */
export function deployment(
  fields: Partial<ProductionDeployment> & { createdAt: number },
): ProductionDeployment {
  shaCounter += 1;
  const repository = fields.repository ?? 'app';
  const sha = fields.sha ?? `sha-${shaCounter}`;
  return {
    repository,
    owner: 'acme',
    team: 'platform',
    environment: 'production',
    sha,
    success: true,
    deployUrl: `https://github.com/acme/${repository}/deployments`,
    failedAt: null,
    fixedAt: null,
    fixedUrl: null,
    issueUrl: null,
    fixesFailure: false,
    merge: null,
    ...fields,
  };
}

export function merged(fields: Partial<MergeEvent> & { sha: string; mergedAt: number }): MergeEvent {
  return {
    repository: 'app',
    owner: 'acme',
    team: 'platform',
    title: `Change ${fields.sha}`,
    user: 'dev',
    url: null,
    ...fields,
  };
}

/** A successful deployment of a pull request's merge commit (the record carries the joined merge). */
export function deploymentOf(
  pullRequest: MergeEvent,
  createdAt: number,
  fields: Partial<ProductionDeployment> = {},
) {
  return deployment({
    repository: pullRequest.repository,
    sha: pullRequest.sha,
    merge: pullRequest,
    createdAt,
    ...fields,
  });
}
