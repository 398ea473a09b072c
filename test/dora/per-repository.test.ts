import type { Level } from '../../lib/dora/levels';
import { METRICS, type MetricName } from '../../lib/dora/metrics';
import { compareAttention, type RepositorySummary, splitByRepository } from '../../lib/dora/per-repository';
import { deployment, merge } from './builders';

/** A repository whose metrics have the given levels (others none), open failures and change fail rate. */
function summaryOf(
  repository: string,
  levels: Partial<Record<MetricName, Level>>,
  openFailures = 0,
  failRate: number | null = null,
): RepositorySummary {
  const metric = (name: MetricName) => ({
    value: name === 'change_failure_rate' ? failRate : null,
    count: 0,
    unit: 'ratio' as const,
    level: levels[name] ?? null,
    previous_value: null,
    previous_count: 0,
    trend: null,
    change_ratio: null,
    improved: null,
  });
  const metrics = Object.fromEntries(
    METRICS.map((name) => [name, metric(name)]),
  ) as RepositorySummary['metrics'];
  metrics.failed_deployment_recovery_time = metrics.time_to_restore_service;
  const worst = (['low', 'medium', 'high', 'elite'] as const).find((level) =>
    Object.values(levels).includes(level),
  );
  return {
    repository,
    team: null,
    excluded_changes: 0,
    attention: {
      worst_level: worst ?? null,
      at_worst_level: METRICS.filter((name) => worst !== undefined && levels[name] === worst),
      open_failures: openFailures,
    },
    metrics,
  };
}

describe('compareAttention', () => {
  it('puts the worst level first, repositories without any level last', () => {
    const elite = summaryOf('a-elite', { deployment_frequency: 'elite' });
    const low = summaryOf('b-low', { deployment_frequency: 'elite', lead_time_for_changes: 'low' });
    const none = summaryOf('c-none', {});
    const medium = summaryOf('d-medium', { change_failure_rate: 'medium' });

    const sorted = [elite, none, medium, low].sort(compareAttention).map((entry) => entry.repository);

    expect(sorted).toEqual(['b-low', 'd-medium', 'a-elite', 'c-none']);
  });

  it('breaks ties by more metrics at the worst level, then more open failures, then the higher change fail rate, then the name', () => {
    const two = summaryOf('e', { lead_time_for_changes: 'low', deployment_frequency: 'low' });
    const oneOpen = summaryOf('d', { lead_time_for_changes: 'low' }, 3, 0.1);
    const oneRate = summaryOf('c', { lead_time_for_changes: 'low' }, 0, 0.4);
    const oneB = summaryOf('b', { lead_time_for_changes: 'low' }, 0, 0.1);
    const oneA = summaryOf('a', { lead_time_for_changes: 'low' }, 0, 0.1);

    const sorted = [oneA, oneB, oneRate, oneOpen, two]
      .sort(compareAttention)
      .map((entry) => entry.repository);

    expect(sorted).toEqual(['e', 'd', 'c', 'a', 'b']);
  });
});

describe('splitByRepository', () => {
  it('keeps every deployment and merge with its own repository, repositories in name order', () => {
    const deployments = [
      { ...deploymentRecord('web'), sha: '1' },
      { ...deploymentRecord('api'), sha: '2' },
    ];
    const merges = [merge({ repository: 'web' }), merge({ repository: 'docs' })];

    const parts = splitByRepository({ deployments, merges });

    expect([...parts.keys()]).toEqual(['api', 'docs', 'web']);
    expect(parts.get('web')).toEqual({ deployments: [deployments[0]], merges: [merges[0]] });
    expect(parts.get('docs')).toEqual({ deployments: [], merges: [merges[1]] });
  });
});

function deploymentRecord(repository: string) {
  const event = deployment({ repository });
  return {
    repository,
    owner: event.owner,
    team: event.team,
    environment: event.environment,
    sha: event.sha,
    createdAt: event.createdAt,
    success: true,
    deployUrl: event.url,
    failedAt: null,
    fixedAt: null,
    fixedUrl: null,
    issueUrl: null,
    fixesFailure: false,
    merge: null,
  };
}
