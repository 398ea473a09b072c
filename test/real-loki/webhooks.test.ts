import { uniqueServiceNamespace } from '../../dev/real-loki';
import type { handler as DataHandler } from '../../functions/data';
import type { handler as MetricsHandler } from '../../functions/metrics';
import type { handler as WebhookFunction } from '../../functions/webhooks-github';
import { collect, collectorStatements, otlpLogs, readCollectorConfig } from '../helpers/collector';
import { setEnv } from '../helpers/environment';
import { invoke } from '../helpers/lambda';
import { recordsOf, wholeSecondsNow } from '../helpers/records';
import {
  deliveryHeaders,
  deploymentStatus,
  githubTime,
  incidentIssue,
  mergedPullRequest,
  type Payload,
  TEST_WEBHOOK_SECRET,
  type Where,
} from '../webhooks/deliveries';
import { LOKI_TIMEOUT_MS } from './backends';
import { describeWithRealLoki } from './real-loki';

const MINUTE = 60_000;
const ORG = 'acme';

/**
 * GitHub's example deliveries, signed, through POST /webhooks/github into the real Loki, and read back by
 * /data and /metrics exactly like the collector's lines of the same events. A namespace of its own.
 */
describeWithRealLoki('webhook deliveries round trip through the real Loki', (run) => {
  let restore: () => void;
  let namespace: string;
  let receive: typeof WebhookFunction;
  let data: typeof DataHandler;
  let metrics: typeof MetricsHandler;
  let sequence = 0;

  beforeAll(async () => {
    namespace = uniqueServiceNamespace('dora-test-webhooks');
    restore = setEnv({
      LOKI_URL: run().url,
      SERVICE_NAME: namespace,
      GITHUB_ORG: ORG,
      GITHUB_TOKEN: '',
      AUTH_JWT_SECRET: '',
      GITHUB_WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
      LOKI_TIMEOUT_MS: String(LOKI_TIMEOUT_MS),
    });
    ({ handler: receive } = await import('../../functions/webhooks-github'));
    ({ handler: data } = await import('../../functions/data'));
    ({ handler: metrics } = await import('../../functions/metrics'));
  });
  afterAll(() => restore());

  async function deliver(event: string, payload: unknown, delivery = `real-${++sequence}`) {
    const body = JSON.stringify(payload);
    const response = await invoke(receive, {
      method: 'POST',
      path: '/webhooks/github',
      headers: deliveryHeaders(event, delivery, body),
      body,
    });
    return response.json as { status: string };
  }

  /**
   * The same events as the collector sends them with deploy/collector/otelcol-config.yaml: its transform's
   * records, posted to the real Loki's OTLP endpoint as the otlphttp exporter posts them, each stamped a
   * little after the event happened (the collector receives it then).
   */
  async function sendThroughCollector(events: Array<{ payload: Payload; at: number }>): Promise<void> {
    const statements = collectorStatements(readCollectorConfig(), namespace);
    const records = events.map(({ payload, at }) => ({
      record: collect(statements, payload),
      timeNs: `${BigInt(at + 1500) * 1_000_000n}`,
    }));
    const response = await fetch(`${run().url}/otlp/v1/logs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(otlpLogs(records)),
    });
    expect(response.status).toBe(204);
  }

  /** When GitHub sent a delivery: the status's, the merge's or the issue's own time. */
  const sentAt = (payload: Payload): number =>
    Date.parse(
      payload.deployment_status?.created_at ?? payload.pull_request?.merged_at ?? payload.issue?.updated_at,
    );

  async function metric(name: string, repository: string, from: number) {
    const response = await invoke(metrics, {
      path: '/metrics',
      query: {
        metric: name,
        interval: 'all',
        start_date: githubTime(from).slice(0, 10),
        end_date: githubTime(Date.now()).slice(0, 10),
        repositories: repository,
        no_cache: 'true',
      },
    });
    expect(response.statusCode).toBe(200);
    return (response.json as Array<Record<string, unknown>>)[0];
  }

  it("gives a deployment the same lead time through the receiver as through the collector configuration and Loki's OTLP endpoint", async () => {
    const deployedAt = wholeSecondsNow() - 50 * MINUTE;
    const events = (where: Where) => [
      {
        event: 'pull_request',
        payload: mergedPullRequest(where, {
          sha: '1'.repeat(40),
          mergedAt: deployedAt - 30 * MINUTE,
          number: 1,
        }),
      },
      {
        event: 'pull_request',
        payload: mergedPullRequest(where, {
          sha: '2'.repeat(40),
          mergedAt: deployedAt - 12 * MINUTE,
          number: 2,
        }),
      },
      {
        event: 'deployment_status',
        payload: deploymentStatus(where, {
          sha: '2'.repeat(40),
          state: 'in_progress',
          environment: 'production',
          createdAt: deployedAt,
        }),
      },
      {
        event: 'deployment_status',
        payload: deploymentStatus(where, {
          sha: '2'.repeat(40),
          state: 'success',
          environment: 'production',
          createdAt: deployedAt,
          statusAt: deployedAt + 4 * MINUTE,
        }),
      },
    ];
    const viaReceiver = { owner: ORG, repository: 'orders-webhooks' };
    const viaCollector = { owner: ORG, repository: 'orders-collector' };

    const answers = [];
    for (const { event, payload } of events(viaReceiver))
      answers.push((await deliver(event, payload)).status);
    await sendThroughCollector(events(viaCollector).map(({ payload }) => ({ payload, at: sentAt(payload) })));
    const received = await metric('lead_time_for_changes', viaReceiver.repository, deployedAt);
    const collected = await metric('lead_time_for_changes', viaCollector.repository, deployedAt);
    const frequency = await metric('deployment_frequency', viaReceiver.repository, deployedAt);

    expect(answers).toEqual(['written', 'written', 'written', 'written']);
    expect(received).toMatchObject({ count: 2, value: (30 * MINUTE + 12 * MINUTE) / 2 / 1000 });
    expect(received).toEqual(collected);
    expect(frequency).toMatchObject({ count: 1 });
  });

  it.each([
    {
      path: 'the receiver',
      repository: 'billing-webhooks',
      sha: '3'.repeat(40),
      number: 5,
      send: async (events: Array<{ event: string; payload: Payload }>) => {
        for (const { event, payload } of events) await deliver(event, payload);
      },
    },
    {
      path: 'the collector configuration',
      repository: 'billing-collector',
      sha: '5'.repeat(40),
      number: 6,
      send: (events: Array<{ event: string; payload: Payload }>) =>
        sendThroughCollector(events.map(({ payload }) => ({ payload, at: sentAt(payload) }))),
    },
  ])(
    'reads a deployment and an incident opened and closed through $path as a failed deployment fixed when the incident closed',
    async ({ repository, sha, number, send }) => {
      const where = { owner: ORG, repository };
      const deployedAt = wholeSecondsNow() - 40 * MINUTE;
      const openedAt = deployedAt + 5 * MINUTE;
      const closedAt = openedAt + 15 * MINUTE;

      await send([
        {
          event: 'deployment_status',
          payload: deploymentStatus(where, {
            sha,
            state: 'success',
            environment: 'production',
            createdAt: deployedAt,
          }),
        },
        { event: 'issues', payload: incidentIssue(where, { action: 'opened', number, createdAt: openedAt }) },
        {
          event: 'issues',
          payload: incidentIssue(where, { action: 'closed', number, createdAt: openedAt, closedAt }),
        },
      ]);
      const records = await recordsOf(data, where.repository, deployedAt - MINUTE, deployedAt + MINUTE);

      expect(records).toEqual([
        expect.objectContaining({
          sha,
          status: true,
          failed_at: githubTime(openedAt),
          fixed_at: githubTime(closedAt),
          issue_url: `https://github.com/${ORG}/${where.repository}/issues/${number}`,
        }),
      ]);
    },
  );

  it('counts a redelivery once, also after Loki flushed the first one to its store', async () => {
    const where = { owner: ORG, repository: 'search-webhooks' };
    const deployedAt = wholeSecondsNow() - 20 * MINUTE;
    const payload = deploymentStatus(where, {
      sha: '4'.repeat(40),
      state: 'success',
      environment: 'production',
      createdAt: deployedAt,
    });

    const first = await deliver('deployment_status', payload, 'redelivery-1');
    await fetch(`${run().url}/flush`, { method: 'POST' });
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    const again = await deliver('deployment_status', payload, 'redelivery-1');
    const records = await recordsOf(data, where.repository, deployedAt - MINUTE, deployedAt + MINUTE);
    const counted = await fetch(
      `${run().url}/loki/api/v1/query?${new URLSearchParams({
        query: `sum(count_over_time({service_namespace="${namespace}", service_name="${where.repository}"}[1h]))`,
        time: String((deployedAt + 30 * MINUTE) / 1000),
      })}`,
    ).then(
      (response) => response.json() as Promise<{ data: { result: Array<{ value: [number, string] }> } }>,
    );

    expect([first.status, again.status]).toEqual(['written', 'duplicate']);
    expect(records).toHaveLength(1);
    expect(counted.data.result[0]?.value[1]).toBe('1');
  });
});
