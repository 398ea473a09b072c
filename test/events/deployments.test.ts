import type { LokiServer } from '../../dev/loki-server';
import type { handler as DataHandler } from '../../functions/data';
import type { handler as DeploymentsHandler } from '../../functions/events-deployments';
import type { handler as MetricsHandler } from '../../functions/metrics';
import { MAX_TEAM_NAME_LENGTH } from '../../lib/dora/names';
import { formatTime } from '../../lib/dora/time';
import type { DeploymentRecord } from '../../lib/dora/types';
import { setEnv, useLokiStandIn } from '../helpers/environment';
import { invoke } from '../helpers/lambda';
import { recordsOf, wholeSecondsNow } from '../helpers/records';
import { mintToken, TEST_JWT_SECRET } from '../security/tokens';

const MINUTE = 60_000;

describe('POST /events/deployments, read back through /data and /metrics', () => {
  let loki: LokiServer;
  let restore: () => Promise<void>;
  let postDeployment: typeof DeploymentsHandler;
  let data: typeof DataHandler;
  let metrics: typeof MetricsHandler;

  beforeAll(async () => {
    ({ loki, restore } = await useLokiStandIn(
      {},
      { GITHUB_ORG: 'acme', GITHUB_TOKEN: '', LOKI_MAX_RETRIES: '0', AUTH_JWT_SECRET: '' },
    ));
    ({ handler: postDeployment } = await import('../../functions/events-deployments'));
    ({ handler: data } = await import('../../functions/data'));
    ({ handler: metrics } = await import('../../functions/metrics'));
  });
  afterAll(async () => restore());

  const post = (body: unknown, headers: Record<string, string> = {}) =>
    invoke(postDeployment, { method: 'POST', path: '/events/deployments', body, headers });

  it('stores a deployment with its pull request that /data reads back with merged_at, title and user', async () => {
    const createdAt = wholeSecondsNow() - 20 * MINUTE;
    const mergedAt = createdAt - 15 * MINUTE;
    const sha = 'a'.repeat(40);

    const response = await post({
      repository: 'checkout',
      team: 'payments',
      sha,
      environment: 'production',
      status: 'success',
      created_at: formatTime(createdAt),
      url: 'https://ci.example.com/runs/1',
      pull_request: { title: 'Faster checkout', user: 'octocat', merged_at: formatTime(mergedAt) },
    });
    const records = await recordsOf(data, 'checkout', createdAt - 60 * MINUTE, createdAt + 60 * MINUTE);

    expect(response.statusCode).toBe(201);
    expect(response.json).toMatchObject({
      deployment: { repository: 'checkout', sha, status: 'success', url: 'https://ci.example.com/runs/1' },
      change: { sha, title: 'Faster checkout', user: 'octocat', merged_at: formatTime(mergedAt) },
    });
    expect(records).toEqual([
      {
        repository: 'checkout',
        team: 'payments',
        title: 'Faster checkout',
        user: 'octocat',
        sha,
        status: true,
        failed_at: null,
        merged_at: formatTime(mergedAt),
        created_at: formatTime(createdAt),
        fixed_at: null,
        fixed_url: null,
        deploy_url: 'https://ci.example.com/runs/1',
        issue_url: null,
        change_url: `https://github.com/acme/checkout/commit/${sha}`,
        total_cycle_time: null,
      },
    ]);
  });

  it('reads back, by team, a deployment written with the longest team name GitHub allows', async () => {
    const team = `Platform ${'t'.repeat(MAX_TEAM_NAME_LENGTH - 9)}`;
    const createdAt = wholeSecondsNow() - 25 * MINUTE;

    const written = await post({
      repository: 'long-team',
      team,
      sha: 'f'.repeat(40),
      environment: 'production',
      status: 'success',
      created_at: formatTime(createdAt),
    });
    const read = await invoke(data, {
      method: 'POST',
      path: '/data',
      query: { no_cache: 'true' },
      body: { start: formatTime(createdAt - MINUTE), end: formatTime(createdAt + MINUTE), team },
    });
    const tooLong = await post({
      repository: 'long-team',
      team: `${team}x`,
      sha: 'f'.repeat(40),
      environment: 'production',
      status: 'success',
    });

    expect(team).toHaveLength(255);
    expect(written.statusCode).toBe(201);
    expect(read.statusCode).toBe(200);
    expect(
      (read.json as { records: DeploymentRecord[] }).records.map((record) => [
        record.repository,
        record.team,
      ]),
    ).toEqual([['long-team', team]]);
    expect(tooLong.statusCode).toBe(400);
  });

  it('writes the collector shape: index labels in the stream, the rest as structured metadata', async () => {
    const sha = 'b'.repeat(40);
    await post({ repository: 'shape', sha, environment: 'prod', status: 'failure' });

    const url = new URL(`${loki.url}/loki/api/v1/query_range`);
    url.search = new URLSearchParams({
      query: '{service_namespace="github", service_name="shape"}',
      start: String(BigInt(wholeSecondsNow() - 60 * MINUTE) * 1_000_000n),
      limit: '10',
    }).toString();
    const answer = await fetch(url, { headers: { 'X-Loki-Response-Encoding-Flags': 'categorize-labels' } });
    const body = (await answer.json()) as {
      data: { result: Array<{ stream: Record<string, string>; values: Array<[string, string, unknown]> }> };
    };

    const [stream] = body.data.result;
    expect(stream?.stream).toEqual({ service_name: 'shape', service_namespace: 'github' });
    expect(stream?.values[0]?.[2]).toEqual({
      structuredMetadata: expect.objectContaining({
        deployment_environment_name: 'prod',
        deployment_status: 'failure',
        event_name: 'deployment_created',
        source: 'dora-api',
        vcs_repository_name: 'shape',
        vcs_repository_owner: 'acme',
        vcs_repository_ref_revision: sha,
      }),
    });
    expect(JSON.parse(stream?.values[0]?.[1] ?? '{}')).toMatchObject({
      deployment: { sha, environment: 'prod' },
      deployment_status: { state: 'failure' },
      repository: { name: 'shape', full_name: 'acme/shape', owner: { login: 'acme' } },
      workflow_run: null,
    });
  });

  it('links a failure to the success that fixed it', async () => {
    const failedAt = wholeSecondsNow() - 30 * MINUTE;
    const fixedAt = failedAt + 10 * MINUTE;

    await post({
      repository: 'fixes',
      sha: 'c'.repeat(40),
      environment: 'production',
      status: 'failure',
      created_at: formatTime(failedAt),
    });
    await post({
      repository: 'fixes',
      sha: 'd'.repeat(40),
      environment: 'production',
      status: 'success',
      created_at: formatTime(fixedAt),
      url: 'https://ci.example.com/runs/fix',
    });
    const records = await recordsOf(data, 'fixes', failedAt - MINUTE, fixedAt + MINUTE);

    expect(
      records.map((record) => [record.status, record.failed_at, record.fixed_at, record.fixed_url]),
    ).toEqual([
      [false, formatTime(failedAt), formatTime(fixedAt), 'https://ci.example.com/runs/fix'],
      [true, null, null, null],
    ]);
  });

  it('counts the written deployment in /metrics (lead time from the merge)', async () => {
    const createdAt = wholeSecondsNow() - 10 * MINUTE;
    await post({
      repository: 'lead',
      sha: 'e'.repeat(40),
      environment: 'production',
      status: 'success',
      created_at: formatTime(createdAt),
      pull_request: { title: 'Ship it', user: 'dev-1', merged_at: formatTime(createdAt - 30 * MINUTE) },
    });

    const response = await invoke(metrics, {
      path: '/metrics',
      query: {
        metric: 'lead_time_for_changes',
        interval: 'all',
        repositories: 'lead',
        from: String(createdAt - 60 * MINUTE),
        to: String(createdAt + MINUTE),
        no_cache: 'true',
      },
    });

    expect(response.statusCode).toBe(200);
    expect(response.json).toEqual([expect.objectContaining({ value: 30 * 60, count: 1 })]);
  });

  it('stores a back-dated deployment at most LOKI_PUSH_MAX_BACKDATE behind now, its own time in the line', async () => {
    const createdAt = wholeSecondsNow() - 3 * 60 * MINUTE;
    const before = Date.now();

    const response = await post({
      repository: 'backdated',
      sha: 'f'.repeat(40),
      environment: 'production',
      status: 'success',
      created_at: formatTime(createdAt),
    });
    const records = await recordsOf(data, 'backdated', createdAt - MINUTE, createdAt + MINUTE);

    expect(response.statusCode).toBe(201);
    expect(records.map((record) => record.created_at)).toEqual([formatTime(createdAt)]);
    const url = new URL(`${loki.url}/loki/api/v1/query_range`);
    url.search = new URLSearchParams({
      query: '{service_name="backdated"}',
      start: String(BigInt(createdAt - MINUTE) * 1_000_000n),
    }).toString();
    const body = (await (await fetch(url)).json()) as { data: { result: Array<{ values: string[][] }> } };
    const storedMs = Number(BigInt(body.data.result[0]?.values[0]?.[0] ?? '0') / 1_000_000n);
    expect(storedMs).toBeGreaterThanOrEqual(before - 50 * MINUTE - 1000);
    expect(storedMs).toBeLessThanOrEqual(before - 50 * MINUTE + 60_000);
  });

  it.each([
    ['repository is missing', { sha: 'a'.repeat(40), environment: 'prod', status: 'success' }, 'repository'],
    [
      'repository is not a name',
      { repository: 'a"}', sha: 'a'.repeat(40), environment: 'p', status: 'success' },
      'repository',
    ],
    [
      'sha is not hexadecimal',
      { repository: 'r', sha: 'main', environment: 'prod', status: 'success' },
      'sha',
    ],
    [
      'status is pending',
      { repository: 'r', sha: 'a'.repeat(40), environment: 'prod', status: 'pending' },
      'status',
    ],
    [
      'environment is empty',
      { repository: 'r', sha: 'a'.repeat(40), environment: '', status: 'success' },
      'environment',
    ],
    [
      'created_at is not RFC 3339',
      {
        repository: 'r',
        sha: 'a'.repeat(40),
        environment: 'prod',
        status: 'success',
        created_at: 'yesterday',
      },
      'created_at',
    ],
    [
      'created_at is in the future',
      {
        repository: 'r',
        sha: 'a'.repeat(40),
        environment: 'prod',
        status: 'success',
        created_at: formatTime(wholeSecondsNow() + 3_600_000),
      },
      'created_at',
    ],
    [
      'url is not https',
      { repository: 'r', sha: 'a'.repeat(40), environment: 'prod', status: 'success', url: 'http://ci/1' },
      'url',
    ],
    [
      'the pull request author is not a login',
      {
        repository: 'r',
        sha: 'a'.repeat(40),
        environment: 'prod',
        status: 'success',
        pull_request: { title: 't', user: 'a b', merged_at: formatTime(wholeSecondsNow() - MINUTE) },
      },
      'pull_request.user',
    ],
    [
      'the pull request was merged after the deployment',
      {
        repository: 'r',
        sha: 'a'.repeat(40),
        environment: 'prod',
        status: 'success',
        created_at: formatTime(wholeSecondsNow() - 2 * MINUTE),
        pull_request: { title: 't', user: 'octocat', merged_at: formatTime(wholeSecondsNow() - MINUTE) },
      },
      'pull_request.merged_at',
    ],
    [
      'the title is too long',
      {
        repository: 'r',
        sha: 'a'.repeat(40),
        environment: 'prod',
        status: 'success',
        pull_request: {
          title: 'x'.repeat(1025),
          user: 'octocat',
          merged_at: formatTime(wholeSecondsNow() - MINUTE),
        },
      },
      'pull_request.title',
    ],
  ])('answers 400 naming the field when %s, and writes nothing', async (_case, body, field) => {
    const pushes = loki.requests.filter((request) => request.path.endsWith('/push')).length;

    const response = await post(body);

    expect(response.statusCode).toBe(400);
    expect(response.headers['Content-Type']).toContain('application/problem+json');
    expect((response.json as { errors: Array<{ field: string }> }).errors.map((e) => e.field)).toContain(
      field,
    );
    expect(loki.requests.filter((request) => request.path.endsWith('/push'))).toHaveLength(pushes);
  });

  it('answers 400 when the body is not JSON', async () => {
    const response = await post('{"repository":');

    expect(response.statusCode).toBe(400);
    expect((response.json as { detail: string }).detail).toBe('The request body is not valid JSON');
  });

  it('answers 413 for a body over MAX_BODY_BYTES', async () => {
    const response = await post({ repository: 'r', padding: 'x'.repeat(300_000) });

    expect(response.statusCode).toBe(413);
  });

  it.each([
    [
      400,
      'entry with timestamp 2026 ignored, reason: entry too far behind',
      /Loki refused the push \(HTTP 400\): entry .*too far behind/,
    ],
    [401, 'no org id', /Loki refused the credentials for the push \(HTTP 401\)/],
    [500, 'internal: secret=hunter2', /^Loki answered the push with HTTP 500$/],
  ])('answers 502 naming Loki when Loki answers the push %i', async (status, text, detail) => {
    loki.failNext(status, 1, text);

    const response = await post({
      repository: 'refused',
      sha: 'a'.repeat(40),
      environment: 'prod',
      status: 'success',
    });

    expect(response.statusCode).toBe(502);
    expect((response.json as { detail: string }).detail).toMatch(detail);
  });

  describe('with AUTH_JWT_SECRET set', () => {
    let restoreAuth: () => void;
    beforeAll(() => {
      restoreAuth = setEnv({ AUTH_JWT_SECRET: TEST_JWT_SECRET });
    });
    afterAll(() => restoreAuth());

    it('answers 401 without a bearer token and writes nothing', async () => {
      const pushes = loki.requests.length;

      const response = await post({
        repository: 'auth',
        sha: 'a'.repeat(40),
        environment: 'prod',
        status: 'success',
      });

      expect(response.statusCode).toBe(401);
      expect(loki.requests).toHaveLength(pushes);
    });

    it('accepts a valid bearer token', async () => {
      const token = await mintToken();

      const response = await post(
        { repository: 'auth', sha: 'a'.repeat(40), environment: 'prod', status: 'success' },
        { authorization: `Bearer ${token}` },
      );

      expect(response.statusCode).toBe(201);
    });
  });
});

describe('POST /events/deployments without GITHUB_ORG', () => {
  let restore: () => Promise<void>;
  let postDeployment: typeof DeploymentsHandler;

  beforeAll(async () => {
    ({ restore } = await useLokiStandIn({}, { GITHUB_ORG: '', LOKI_MAX_RETRIES: '0' }));
    ({ handler: postDeployment } = await import('../../functions/events-deployments'));
  });
  afterAll(async () => restore());

  it('requires url, which is then the only link the reader can build', async () => {
    const body = { repository: 'r', sha: 'a'.repeat(40), environment: 'prod', status: 'success' };

    const without = await invoke(postDeployment, { method: 'POST', path: '/events/deployments', body });
    const withUrl = await invoke(postDeployment, {
      method: 'POST',
      path: '/events/deployments',
      body: { ...body, url: 'https://ci.example.com/1' },
    });

    expect(without.statusCode).toBe(400);
    expect((without.json as { errors: Array<{ field: string }> }).errors[0]?.field).toBe('url');
    expect(withUrl.statusCode).toBe(201);
  });
});

describe('POST /events/deployments against a Loki that requires credentials', () => {
  let loki: LokiServer;
  let restore: () => Promise<void>;
  let postDeployment: typeof DeploymentsHandler;
  const body = { repository: 'creds', sha: 'a'.repeat(40), environment: 'prod', status: 'success' };

  beforeAll(async () => {
    ({ loki, restore } = await useLokiStandIn(
      { requireAuth: { user: 'writer', token: 'push-token-1234' } },
      {
        GITHUB_ORG: 'acme',
        LOKI_USER: 'writer',
        LOKI_TOKEN: 'push-token-1234',
        LOKI_TENANT: 'team-a',
        LOKI_MAX_RETRIES: '0',
      },
    ));
    ({ handler: postDeployment } = await import('../../functions/events-deployments'));
  });
  afterAll(async () => restore());

  it('pushes with the reader credentials (Basic LOKI_USER:LOKI_TOKEN) and LOKI_TENANT', async () => {
    const response = await invoke(postDeployment, { method: 'POST', path: '/events/deployments', body });

    const push = loki.requests.find((request) => request.path === '/loki/api/v1/push');
    expect(response.statusCode).toBe(201);
    expect(push?.headers.authorization).toBe(
      `Basic ${Buffer.from('writer:push-token-1234').toString('base64')}`,
    );
    expect(push?.headers['x-scope-orgid']).toBe('team-a');
  });

  it('answers 502 naming the refused credentials, never the token', async () => {
    const restoreToken = setEnv({ LOKI_TOKEN: 'wrong-token-5678' });
    try {
      const response = await invoke(postDeployment, { method: 'POST', path: '/events/deployments', body });

      expect(response.statusCode).toBe(502);
      expect((response.json as { detail: string }).detail).toBe(
        'Loki refused the credentials for the push (HTTP 401)',
      );
      expect(response.body).not.toContain('wrong-token-5678');
    } finally {
      restoreToken();
    }
  });
});
