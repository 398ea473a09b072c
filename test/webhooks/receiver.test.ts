import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { GitHubServer } from '../../dev/github-server';
import type { LokiServer } from '../../dev/loki-server';
import type { handler as DataHandler } from '../../functions/data';
import type { handler as WebhookFunction } from '../../functions/webhooks-github';
import { resetTeamDirectoriesForTests } from '../../lib/github/directory';
import type { HttpResponse } from '../../lib/http/response';
import { routeHandler } from '../../lib/http/route';
import type { LokiEntry } from '../../lib/loki/types';
import { resetMetricsForTests } from '../../lib/observability/metrics';
import { route } from '../../lib/openapi/routes';
import type { ContextWithSecrets } from '../../lib/secrets';
import { createWebhookHandler, defaultDeps, deliveryOutcome } from '../../lib/webhooks/handler';
import type { DeliveryOutbox, PendingDelivery } from '../../lib/webhooks/outbox';
import { setEnv, useStandIns } from '../helpers/environment';
import { FIXTURES_DIR } from '../helpers/fixtures';
import { httpEvent, invoke, lambdaContext } from '../helpers/lambda';
import { recordsOf, wholeSecondsNow } from '../helpers/records';
import {
  deliveryHeaders,
  deploymentStatus,
  githubTime,
  incidentIssue,
  mergedPullRequest,
  TEST_WEBHOOK_SECRET,
} from './deliveries';

/**
 * POST /webhooks/github in process, against the Loki imitation and the GitHub stand-in: what a delivery
 * becomes in Loki and in /data, redeliveries, the outbox, base64 bodies, a missing secret.
 */

const MINUTE = 60_000;
const ORG = 'acme';
const TEAM = { name: 'Payments', slug: 'payments', repositories: ['checkout'] };
const where = { owner: ORG, repository: 'checkout' };

let loki: LokiServer;
let github: GitHubServer;
let restore: () => Promise<void>;
let receive: typeof WebhookFunction;
let data: typeof DataHandler;
let sequence = 0;
const outboxDir = mkdtempSync(path.join(tmpdir(), 'webhook-outbox-'));

beforeAll(async () => {
  ({ loki, github, restore } = await useStandIns({
    entries: [],
    org: ORG,
    teams: [TEAM],
    env: {
      GITHUB_WEBHOOK_SECRET: TEST_WEBHOOK_SECRET,
      AUTH_JWT_SECRET: '',
      GITHUB_MAX_RETRIES: '0',
      WEBHOOK_OUTBOX_URL: pathToFileURL(outboxDir).href,
    },
  }));
  ({ handler: receive } = await import('../../functions/webhooks-github'));
  ({ handler: data } = await import('../../functions/data'));
});
afterAll(async () => {
  await restore();
  rmSync(outboxDir, { recursive: true, force: true });
});

function deliver(
  event: string,
  payload: unknown,
  options: { delivery?: string; base64?: boolean; handler?: typeof WebhookFunction } = {},
) {
  const body = JSON.stringify(payload);
  sequence += 1;
  const delivery = options.delivery ?? `delivery-${sequence}`;
  const request = httpEvent({
    method: 'POST',
    path: '/webhooks/github',
    headers: deliveryHeaders(event, delivery, body),
    body: options.base64 ? Buffer.from(body).toString('base64') : body,
  });
  request.isBase64Encoded = options.base64 === true;
  return call(options.handler ?? receive, request);
}

async function call(
  handler: (event: APIGatewayProxyEventV2, context: ContextWithSecrets) => Promise<unknown>,
  event: APIGatewayProxyEventV2,
) {
  const result = (await handler(event, lambdaContext() as ContextWithSecrets)) as HttpResponse;
  return { statusCode: result.statusCode, headers: result.headers ?? {}, json: JSON.parse(result.body) };
}

const pushes = () => loki.requests.filter((request) => request.path === '/loki/api/v1/push').length;

/** Every label name the collector wrote in the shared fixtures' events. */
const collectorLabels = () =>
  new Set(
    ['deployments.json', 'incidents.json', 'merges.json'].flatMap((file) =>
      (
        JSON.parse(readFileSync(path.join(FIXTURES_DIR, file), 'utf8')) as {
          data: { result: Array<{ stream: Record<string, string> }> };
        }
      ).data.result.flatMap((stream) => Object.keys(stream.stream)),
    ),
  );

describe('POST /webhooks/github in process', () => {
  it('writes a production deployment and its merged pull request that /data reads with the team from GitHub', async () => {
    const createdAt = wholeSecondsNow() - 30 * MINUTE;
    const mergedAt = createdAt - 20 * MINUTE;
    const sha = 'c'.repeat(40);

    const merge = await deliver(
      'pull_request',
      mergedPullRequest(where, { sha, mergedAt, title: 'Faster checkout', user: 'octocat' }),
    );
    const deployment = await deliver(
      'deployment_status',
      deploymentStatus(where, {
        sha,
        state: 'success',
        environment: 'production',
        createdAt,
        statusAt: createdAt + MINUTE,
      }),
    );
    const records = await recordsOf(data, 'checkout', createdAt - 60 * MINUTE, createdAt + 60 * MINUTE);

    expect([merge.statusCode, merge.json.status]).toEqual([200, 'written']);
    expect(deployment.json).toMatchObject({
      status: 'written',
      event: 'deployment_status',
      action: 'created',
      repository: 'acme/checkout',
      entries: 1,
    });
    expect(records).toEqual([
      expect.objectContaining({
        repository: 'checkout',
        team: 'Payments',
        sha,
        status: true,
        title: 'Faster checkout',
        user: 'octocat',
        merged_at: githubTime(mergedAt),
        created_at: githubTime(createdAt),
        change_url: `https://github.com/acme/checkout/commit/${sha}`,
      }),
    ]);
  });

  (existsSync(FIXTURES_DIR) ? it : it.skip)(
    'labels entries with what the collector labels them with (the shared fixtures)',
    async () => {
      const at = wholeSecondsNow() - 10 * MINUTE;
      const outbox = recordingOutbox();
      // The look-up before each push fails: the entries go to the outbox, where the test reads them.
      loki.failNext(503, 3);
      const handler = receiverWith(outbox);

      await deliver(
        'deployment_status',
        deploymentStatus(where, {
          sha: 'd'.repeat(40),
          state: 'failure',
          environment: 'staging',
          createdAt: at,
        }),
        { handler },
      );
      await deliver('pull_request', mergedPullRequest(where, { sha: 'e'.repeat(40), mergedAt: at }), {
        handler,
      });
      await deliver(
        'issues',
        incidentIssue(where, { action: 'closed', number: 7, createdAt: at - MINUTE, closedAt: at }),
        { handler },
      );
      const [deployment, merge, incident] = outbox.kept.map((delivery) => delivery.entries[0] as LokiEntry);

      const known = collectorLabels();
      const extra = (entry: LokiEntry | undefined) =>
        Object.keys(entry?.labels ?? {}).filter((name) => !known.has(name));
      expect(extra(deployment)).toEqual([]);
      expect(extra(merge)).toEqual([]);
      // The write path's incident id, by which POST /events/incidents finds earlier reports.
      expect(extra(incident)).toEqual(['incident_id']);
      expect(deployment?.labels).toMatchObject({
        deployment_environment_name: 'staging',
        deployment_id: '145988746',
        deployment_status: 'failure',
        event_name: 'deployment_created',
        service_name: 'checkout',
        team_name: 'Payments',
        vcs_repository_owner: 'acme',
      });
      expect(incident?.labels).toMatchObject({ event_name: 'issue_closed', closed_at: githubTime(at) });
    },
  );

  it('stores each entry at the time the payload gives, so a redelivery is found in Loki and not pushed again', async () => {
    const createdAt = wholeSecondsNow() - 5 * MINUTE;
    const payload = deploymentStatus(
      { owner: ORG, repository: 'search' },
      { sha: 'f'.repeat(40), state: 'success', environment: 'production', createdAt },
    );
    const before = pushes();

    const first = await deliver('deployment_status', payload, { delivery: 'same-delivery' });
    const again = await deliver('deployment_status', payload, { delivery: 'same-delivery' });
    const retried = await deliver('deployment_status', payload);

    expect([first.json.status, again.json.status, retried.json.status]).toEqual([
      'written',
      'duplicate',
      'duplicate',
    ]);
    expect(pushes() - before).toBe(1);
  });

  it('keeps a delivery in the outbox and answers 202 when Loki refuses it, with the entries it would have pushed', async () => {
    const outbox = recordingOutbox();
    const at = wholeSecondsNow() - MINUTE;
    loki.failNext(500);

    const response = await deliver(
      'deployment_status',
      deploymentStatus(where, {
        sha: '1'.repeat(40),
        state: 'success',
        environment: 'production',
        createdAt: at,
      }),
      { handler: receiverWith(outbox), delivery: 'kept-1' },
    );

    expect(response.statusCode).toBe(202);
    expect(response.json).toMatchObject({ status: 'queued', delivery: 'kept-1', entries: 1 });
    expect(outbox.kept).toEqual([
      expect.objectContaining({
        id: 'kept-1',
        event: 'deployment_status',
        action: 'created',
        repository: 'acme/checkout',
      }),
    ]);
    expect(outbox.kept[0]?.entries[0]?.timestampNs).toBe(`${BigInt(at) * 1_000_000n + 1n}`);
  });

  it('keeps a delivery in the WEBHOOK_OUTBOX_URL store when Loki refuses it', async () => {
    loki.failNext(500);

    const response = await deliver(
      'pull_request',
      mergedPullRequest(where, { sha: '5'.repeat(40), mergedAt: wholeSecondsNow() }),
      { delivery: 'kept-in-store' },
    );

    expect(response.statusCode).toBe(202);
    expect(readdirSync(path.join(outboxDir, 'pending'))).toEqual([
      expect.stringMatching(/_kept-in-store\.json$/),
    ]);
  });

  it('answers 503 when neither Loki nor the outbox takes a delivery, so it can be redelivered', async () => {
    loki.failNext(500);
    const broken: DeliveryOutbox = {
      keep: () => Promise.reject(new Error('store down')),
      pending: () => Promise.resolve(0),
    };

    const response = await deliver(
      'deployment_status',
      deploymentStatus(where, {
        sha: '2'.repeat(40),
        state: 'success',
        environment: 'production',
        createdAt: wholeSecondsNow(),
      }),
      { handler: receiverWith(broken) },
    );

    expect(response.statusCode).toBe(503);
    expect(response.headers['Content-Type']).toMatch(/^application\/problem\+json/);
    expect(response.json.detail).toMatch(/redeliver/);
  });

  it('writes without a team when the team directory fails', async () => {
    github.failNext({ kind: 'status', status: 500, message: 'down' }, 5);
    resetTeamDirectoriesForTests();
    const outbox = recordingOutbox();
    loki.failNext(500);

    const response = await deliver(
      'pull_request',
      mergedPullRequest(where, { sha: '3'.repeat(40), mergedAt: wholeSecondsNow() }),
      { handler: receiverWith(outbox) },
    );

    expect(response.statusCode).toBe(202);
    expect(outbox.kept[0]?.entries[0]?.labels.team_name).toBeUndefined();
  });

  it('verifies a base64-encoded body over its decoded bytes', async () => {
    const ping = { zen: 'Non-blocking is better than blocking.', hook_id: 30 };

    const response = await deliver('ping', ping, { base64: true });

    expect([response.statusCode, response.json.status]).toEqual([200, 'ok']);
  });

  it('refuses a base64-encoded body whose decoded bytes were changed', async () => {
    const body = JSON.stringify({ zen: 'original', hook_id: 1 });
    const request = httpEvent({
      method: 'POST',
      path: '/webhooks/github',
      headers: deliveryHeaders('ping', 'b64-tampered', body),
      body: Buffer.from(body.replace('original', 'changed!')).toString('base64'),
    });
    request.isBase64Encoded = true;

    const response = await call(receive, request);

    expect(response.statusCode).toBe(401);
  });
});

describe('POST /webhooks/github metrics', () => {
  afterEach(() => resetMetricsForTests());

  it('publishes WebhookDeliveries once per delivery with its event and outcome, on a line of its own', async () => {
    const restoreEnv = setEnv({ POWERTOOLS_METRICS_DISABLED: 'false' });
    resetMetricsForTests();
    const written: string[] = [];
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    try {
      await deliver('ping', { zen: 'x', hook_id: 1 });
      await deliver('push', { ref: 'refs/heads/main' });
      const body = '{"zen":"x"}';
      await call(
        receive,
        httpEvent({
          method: 'POST',
          path: '/webhooks/github',
          headers: { ...deliveryHeaders('ping', 'unsigned', body), 'X-Hub-Signature-256': '' },
          body,
        }),
      );
    } finally {
      spy.mockRestore();
      restoreEnv();
    }
    const deliveries = written
      .flatMap((text) => text.split('\n'))
      .filter((line) => line.includes('"WebhookDeliveries"'))
      .map(
        (line) =>
          JSON.parse(line) as Record<string, unknown> & {
            _aws: { CloudWatchMetrics: Array<{ Dimensions: string[][] }> };
          },
      );

    expect(deliveries.map((line) => [line.event, line.outcome, line.WebhookDeliveries])).toEqual([
      ['ping', 'ping', 1],
      ['push', 'ignored', 1],
      ['unverified', 'unauthorized', 1],
    ]);
    expect(deliveries[0]?._aws.CloudWatchMetrics[0]?.Dimensions[0]).toEqual(
      expect.arrayContaining(['event', 'outcome']),
    );
    expect(deliveries[0]?.Latency).toBeUndefined();
  });
});

describe('POST /webhooks/github without GITHUB_WEBHOOK_SECRET', () => {
  it('refuses every delivery, even one signed, with a 503 that says only that the receiver is not configured', async () => {
    const restoreEnv = setEnv({ GITHUB_WEBHOOK_SECRET: '' });
    const body = JSON.stringify({ zen: 'x', hook_id: 1 });

    const response = await invoke(receive, {
      method: 'POST',
      path: '/webhooks/github',
      headers: deliveryHeaders('ping', 'no-secret', body, 'anything'),
      body,
    });
    restoreEnv();

    expect(response.statusCode).toBe(503);
    expect(response.json).toMatchObject({
      status: 503,
      detail: 'The GitHub webhook receiver is not configured',
    });
  });
});

interface RecordingOutbox extends DeliveryOutbox {
  kept: PendingDelivery[];
}

function recordingOutbox(): RecordingOutbox {
  const kept: PendingDelivery[] = [];
  return {
    kept,
    async keep(delivery) {
      kept.push(structuredClone(delivery));
    },
    async pending() {
      return kept.length;
    },
  };
}

/** The function's own stack around a handler whose outbox is `outbox`. */
function receiverWith(outbox: DeliveryOutbox): typeof WebhookFunction {
  return routeHandler(
    route('postGitHubWebhook'),
    [deliveryOutcome()],
    createWebhookHandler({ ...defaultDeps, outbox: () => outbox }),
  );
}
