import type { handler as MetricsHandler } from '../../functions/metrics';
import type { handler as SummaryHandler } from '../../functions/metrics-summary';
import type { MetricPoint } from '../../lib/dora/metrics';
import type { Summary } from '../../lib/dora/summary';
import type { LokiEntry } from '../../lib/loki/types';
import { useLokiStandIn } from '../helpers/environment';
import { invoke } from '../helpers/lambda';

/**
 * A hand-made week of one repository, served by the Loki stand-in, with every expected number worked
 * out by hand below. The window is Monday 2026-11-02 to Sunday 2026-11-08.
 *
 * - PR 0 merged 09-10, deployed 09-15: long before both periods. The summary's look-around reaches back to
 *   its merge but not to its deployment, which must not make PR 1's deployment its delivery.
 * - PR 1 merged Fri 10-30 10:00, deployed 10-30 12:00: before the window (the previous period).
 * - PR 2 merged Sat 10-31 09:00, never deployed by its own sha: shipped by PR 3's deployment.
 * - PR 3 merged Tue 11-03 08:00, deployed 11-03 09:00: lead times 1 h (PR 3) and 72 h (PR 2).
 * - PR 4 merged Thu 11-05 10:00; its deployment fails at 11:00 and succeeds at 13:00: a failure restored
 *   after 2 h, one rework deployment, lead time 3 h.
 */
const REPOSITORY = 'shop';
const HOUR = 3600;

function nanoseconds(iso: string): string {
  return (BigInt(Date.parse(iso)) * 1_000_000n).toString();
}

const commonLabels = {
  service_namespace: 'github',
  service_name: REPOSITORY,
  vcs_repository_name: REPOSITORY,
  vcs_repository_owner: 'acme',
  team_name: 'Checkout',
};
const repository = { name: REPOSITORY, full_name: `acme/${REPOSITORY}`, owner: { login: 'acme' } };

function mergeEntry(number: number, sha: string, mergedAt: string): LokiEntry {
  return {
    labels: { ...commonLabels, event_name: 'change_closed', merged_at: mergedAt, merge_sha: sha },
    timestampNs: nanoseconds(mergedAt),
    line: JSON.stringify({
      action: 'closed',
      number,
      pull_request: {
        number,
        merged: true,
        merged_at: mergedAt,
        merge_commit_sha: sha,
        title: `PR ${number}`,
        user: { login: 'dev' },
        html_url: `https://github.com/acme/${REPOSITORY}/pull/${number}`,
      },
      repository,
    }),
  };
}

function deploymentEntry(
  id: number,
  sha: string,
  createdAt: string,
  state: 'success' | 'failure',
): LokiEntry {
  return {
    labels: {
      ...commonLabels,
      event_name: 'deployment_status',
      deployment_environment_name: 'production',
      deployment_status: state,
      deployment_id: String(id),
    },
    timestampNs: nanoseconds(createdAt),
    line: JSON.stringify({
      action: 'created',
      deployment: {
        id,
        sha,
        created_at: createdAt,
        environment: 'production',
        url: `https://api.github.com/repos/acme/${REPOSITORY}/deployments/${id}`,
      },
      deployment_status: { state, environment: 'production' },
      repository,
      workflow_run: null,
    }),
  };
}

const entries: LokiEntry[] = [
  mergeEntry(0, 'p0', '2026-09-10T10:00:00Z'),
  deploymentEntry(100, 'p0', '2026-09-15T10:00:00Z', 'success'),
  mergeEntry(1, 'p1', '2026-10-30T10:00:00Z'),
  deploymentEntry(101, 'p1', '2026-10-30T12:00:00Z', 'success'),
  mergeEntry(2, 'p2', '2026-10-31T09:00:00Z'),
  mergeEntry(3, 'p3', '2026-11-03T08:00:00Z'),
  deploymentEntry(103, 'p3', '2026-11-03T09:00:00Z', 'success'),
  mergeEntry(4, 'p4', '2026-11-05T10:00:00Z'),
  deploymentEntry(104, 'p4', '2026-11-05T11:00:00Z', 'failure'),
  deploymentEntry(105, 'p4', '2026-11-05T13:00:00Z', 'success'),
];

const WEEK = { start_date: '2026-11-02', end_date: '2026-11-08' };

describe('GET /metrics on a hand-made week', () => {
  let restore: () => Promise<void>;
  let metrics: typeof MetricsHandler;
  let summary: typeof SummaryHandler;

  beforeAll(async () => {
    ({ restore } = await useLokiStandIn(
      { entries },
      { GITHUB_ORG: '', GITHUB_TOKEN: '', AUTH_MODE: 'off', LOOKAROUND_DAYS: '30' },
    ));
    ({ handler: metrics } = await import('../../functions/metrics'));
    ({ handler: summary } = await import('../../functions/metrics-summary'));
  });
  afterAll(async () => restore());

  async function series(metric: string, interval = 'daily'): Promise<MetricPoint[]> {
    const response = await invoke(metrics, { path: '/metrics', query: { metric, interval, ...WEEK } });
    expect(response.statusCode).toBe(200);
    return response.json as MetricPoint[];
  }

  const byDate = (points: MetricPoint[]) =>
    Object.fromEntries(points.map(({ date, ...rest }) => [date, rest]));

  it('counts deployments per day, 0 on days without one', async () => {
    const points = await series('deployment_frequency');

    expect(points.map((point) => [point.date, point.value])).toEqual([
      ['2026-11-02', 0],
      ['2026-11-03', 1],
      ['2026-11-04', 0],
      ['2026-11-05', 1],
      ['2026-11-06', 0],
      ['2026-11-07', 0],
      ['2026-11-08', 0],
    ]);
  });

  it('delivers the pull request merged before the window with the next deployment, not the one already shipped', async () => {
    const points = byDate(await series('lead_time_for_changes'));

    // Tuesday: PR 3 after 1 h, PR 2 after 72 h (PR 1 was shipped before the window).
    expect(points['2026-11-03']).toEqual({
      value: 36.5 * HOUR,
      count: 2,
      p50: 36.5 * HOUR,
      p75: 54.25 * HOUR,
      p90: (649 * HOUR) / 10, // 64.9 h
    });
    expect(points['2026-11-05']).toEqual({
      value: 3 * HOUR,
      count: 1,
      p50: 3 * HOUR,
      p75: 3 * HOUR,
      p90: 3 * HOUR,
    });
    expect(points['2026-11-04']).toEqual({ value: null, count: 0, p50: null, p75: null, p90: null });
  });

  it('gives the failure rate, the recovery time and the rework rate of Thursday', async () => {
    const failureRate = byDate(await series('change_failure_rate'));
    const restore = byDate(await series('time_to_restore_service'));
    const rework = byDate(await series('rework_rate'));

    expect(failureRate['2026-11-03']).toEqual({ value: 0, count: 1, failed: 0 });
    expect(failureRate['2026-11-05']).toEqual({ value: 0.5, count: 2, failed: 1 });
    expect(failureRate['2026-11-04']).toEqual({ value: null, count: 0, failed: 0 });
    expect(restore['2026-11-05']).toMatchObject({ value: 2 * HOUR, count: 1, open: 0 });
    expect(rework['2026-11-05']).toEqual({ value: 0.5, count: 2, rework: 1 });
  });

  it('answers the week as one ISO-week bucket', async () => {
    const [week] = await series('lead_time_for_changes', 'weekly');

    expect(week).toEqual({
      date: '2026-11-02',
      value: 3 * HOUR,
      count: 3,
      p50: 3 * HOUR,
      p75: 37.5 * HOUR,
      p90: 58.2 * HOUR,
    });
  });

  it('summarises the week against the week before', async () => {
    const response = await invoke(summary, { path: '/metrics/summary', query: WEEK });

    const body = response.json as Summary;
    expect(body.previous_period).toMatchObject({ start_date: '2026-10-26', end_date: '2026-11-01' });
    expect(body.metrics.deployment_frequency).toMatchObject({
      value: 2 / 7,
      count: 2,
      previous_value: 1 / 7,
      trend: 'up',
      improved: true,
      level: 'high',
    });
    expect(body.metrics.lead_time_for_changes).toMatchObject({
      value: 3 * HOUR,
      count: 3,
      previous_value: 2 * HOUR,
      trend: 'up',
      improved: false,
      level: 'elite',
    });
    expect(body.metrics.change_failure_rate).toMatchObject({ value: 1 / 3, previous_value: 0, level: 'low' });
  });
});
