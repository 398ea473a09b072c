import { uniqueServiceNamespace } from '../../dev/real-loki';
import type { handler as DataHandler } from '../../functions/data';
import type { handler as DeploymentsHandler } from '../../functions/events-deployments';
import type { handler as IncidentsHandler } from '../../functions/events-incidents';
import type { handler as MetricsHandler } from '../../functions/metrics';
import type { handler as StatusHandler } from '../../functions/status';
import type { handler as StatusJsonHandler } from '../../functions/status-json';
import { formatTime } from '../../lib/dora/time';
import { setEnv } from '../helpers/environment';
import { invoke } from '../helpers/lambda';
import { recordsOf, wholeSecondsNow } from '../helpers/records';
import { LOKI_TIMEOUT_MS } from './backends';
import { describeWithRealLoki } from './real-loki';

const MINUTE = 60_000;

/**
 * The write routes push to the real Loki (the collector's shape: index labels, structured metadata, the
 * JSON line) and the read routes find what they wrote. A namespace of its own: these events are "now",
 * the loaded organisation is in the past.
 */
describeWithRealLoki('the write path round trips through the real Loki', (run) => {
  let restore: () => void;
  let data: typeof DataHandler;
  let metrics: typeof MetricsHandler;
  let postDeployment: typeof DeploymentsHandler;
  let postIncident: typeof IncidentsHandler;
  let postStatus: typeof StatusHandler;
  let statusJson: typeof StatusJsonHandler;

  beforeAll(async () => {
    restore = setEnv({
      LOKI_URL: run().url,
      SERVICE_NAME: uniqueServiceNamespace('dora-test-writes'),
      GITHUB_ORG: 'acme',
      GITHUB_TOKEN: '',
      AUTH_JWT_SECRET: '',
      LOKI_TIMEOUT_MS: String(LOKI_TIMEOUT_MS),
    });
    ({ handler: data } = await import('../../functions/data'));
    ({ handler: metrics } = await import('../../functions/metrics'));
    ({ handler: postDeployment } = await import('../../functions/events-deployments'));
    ({ handler: postIncident } = await import('../../functions/events-incidents'));
    ({ handler: postStatus } = await import('../../functions/status'));
    ({ handler: statusJson } = await import('../../functions/status-json'));
  });
  afterAll(() => restore());

  const incident = (body: unknown) =>
    invoke(postIncident, { method: 'POST', path: '/events/incidents', body });

  it('stores a deployment with its pull request, an incident opened, resolved and repeated, and /data and /metrics read them', async () => {
    const deployedAt = wholeSecondsNow() - 40 * MINUTE;
    const mergedAt = deployedAt - 10 * MINUTE;
    const openedAt = deployedAt + 5 * MINUTE;
    const resolvedAt = openedAt + 20 * MINUTE;
    const repository = 'orders';

    const deployed = await invoke(postDeployment, {
      method: 'POST',
      path: '/events/deployments',
      body: {
        repository,
        team: 'Payments',
        sha: 'a'.repeat(40),
        environment: 'production',
        status: 'success',
        created_at: formatTime(deployedAt),
        url: 'https://ci.example.com/pipelines/1',
        pull_request: { title: 'Faster checkout', user: 'octocat', merged_at: formatTime(mergedAt) },
      },
    });
    const opened = await incident({
      repository,
      id: 'PD-1',
      title: 'Errors',
      created_at: formatTime(openedAt),
    });
    const whileOpen = await recordsOf(data, repository, deployedAt - MINUTE, deployedAt + MINUTE);
    const resolved = await incident({ repository, id: 'PD-1', resolved_at: formatTime(resolvedAt) });
    const repeated = await incident({ repository, id: 'PD-1', resolved_at: formatTime(resolvedAt) });
    const afterResolve = await recordsOf(data, repository, deployedAt - MINUTE, deployedAt + MINUTE);
    const today = formatTime(deployedAt).slice(0, 10);
    const failureRate = await invoke(metrics, {
      path: '/metrics',
      query: {
        metric: 'change_failure_rate',
        interval: 'all',
        start_date: today,
        end_date: today,
        repositories: repository,
        no_cache: 'true',
      },
    });

    expect(deployed.statusCode).toBe(201);
    expect([opened.statusCode, resolved.statusCode, repeated.statusCode]).toEqual([201, 200, 409]);
    expect(whileOpen).toMatchObject([
      {
        repository,
        team: 'Payments',
        title: 'Faster checkout',
        user: 'octocat',
        merged_at: formatTime(mergedAt),
        created_at: formatTime(deployedAt),
        failed_at: formatTime(openedAt),
        fixed_at: null,
        deploy_url: 'https://ci.example.com/pipelines/1',
      },
    ]);
    expect(afterResolve.map((record) => [record.failed_at, record.fixed_at])).toEqual([
      [formatTime(openedAt), formatTime(resolvedAt)],
    ]);
    expect(failureRate.statusCode).toBe(200);
    expect(failureRate.json).toEqual([
      expect.objectContaining({ date: null, value: 1, count: 1, failed: 1 }),
    ]);
  });

  it('stores GitOps statuses and /status.json serves the latest per repo:server', async () => {
    const report = (overrides: Record<string, unknown>) =>
      invoke(postStatus, {
        method: 'POST',
        path: '/api/status',
        body: {
          repo: 'acme/platform-gitops',
          server: 'prod-eu-1',
          sync_status: 'SYNCED',
          drift_count: 0,
          files: [],
          last_check: formatTime(wholeSecondsNow() - 2 * MINUTE),
          ...overrides,
        },
      });

    const first = await report({ sync_status: 'OUT_OF_SYNC', drift_count: 2, files: [{ name: 'a.yaml' }] });
    const second = await report({ sync_status: 'SYNCED', drift_count: 0, last_check: 'latest' });
    const other = await report({ server: 'prod-us-1', sync_status: 'OUT_OF_SYNC', drift_count: 1 });
    const listed = await invoke(statusJson, {
      path: '/status.json',
      query: { repo: 'acme/platform-gitops' },
    });

    expect([first.statusCode, second.statusCode, other.statusCode]).toEqual([200, 200, 200]);
    expect(listed.statusCode).toBe(200);
    expect(listed.json).toEqual([
      expect.objectContaining({ server: 'prod-eu-1', sync_status: 'SYNCED', last_check: 'latest' }),
      expect.objectContaining({ server: 'prod-us-1', sync_status: 'OUT_OF_SYNC', drift_count: 1 }),
    ]);
  });
});
