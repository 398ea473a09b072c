import { type GitHubServer, startGitHubServer } from '../../dev/github-server';
import type { LokiServer } from '../../dev/loki-server';
import type { handler as ServicesHandler } from '../../functions/services';
import { resetTeamDirectoriesForTests } from '../../lib/github/directory';
import type { LokiEntry } from '../../lib/loki/types';
import { STATUS_SERVICE_NAME } from '../../lib/status/store';
import { setEnv, useLokiStandIn } from '../helpers/environment';
import { expectBadRequestNaming, invoke } from '../helpers/lambda';

const DAY = 86_400_000;
const NOW = Date.now();
/** Label-values calls of one listing: MAX_RANGE_DAYS (1100) in LOKI_MAX_QUERY_LENGTH (30 d) pieces. */
const PIECES = Math.ceil(1100 / 30);

function entry(service: string, namespace: string, ageDays: number): LokiEntry {
  return {
    labels: { service_name: service, service_namespace: namespace, team_name: 'payments' },
    timestampNs: `${BigInt(NOW - ageDays * DAY) * 1_000_000n}`,
    line: '{}',
  };
}

const ENTRIES = [
  entry('web', 'github', 1),
  entry('checkout-service', 'github', 40),
  entry('api', 'github', 300),
  entry('Legacy Billing', 'github', 1000),
  entry('older-than-the-look-back', 'github', 1200),
  entry('other-namespace-service', 'gitlab', 2),
  // Where POST /api/status stores GitOps reports: the API's own stream, not a service of the organisation.
  entry(STATUS_SERVICE_NAME, 'github', 0),
];

describe('GET /services', () => {
  let loki: LokiServer;
  let github: GitHubServer;
  let restore: () => Promise<void>;
  let handler: typeof ServicesHandler;

  beforeAll(async () => {
    github = await startGitHubServer({
      org: 'acme',
      token: 'test-token',
      teams: [{ name: 'Platform Core', slug: 'platform-core', repositories: ['api', 'web', 'not-in-loki'] }],
    });
    ({ loki, restore } = await useLokiStandIn(
      { entries: ENTRIES },
      { GITHUB_ORG: 'acme', GITHUB_TOKEN: 'test-token', GITHUB_API_URL: github.url, LOKI_MAX_RETRIES: '0' },
    ));
    resetTeamDirectoriesForTests();
    ({ handler } = await import('../../functions/services'));
  });
  afterAll(async () => {
    await restore();
    await github.close();
  });

  it("lists the namespace's services with events within MAX_RANGE_DAYS, sorted, as the Backstage plugin reads them", async () => {
    const response = await invoke(handler, { path: '/services', query: { no_cache: 'true' } });

    expect(response.statusCode).toBe(200);
    expect(response.json).toEqual({ services: ['api', 'checkout-service', 'Legacy Billing', 'web'] });
  });

  it("leaves out the stream of GitOps reports, which is the API's own and not a service", async () => {
    const response = await invoke(handler, { path: '/services', query: { no_cache: 'true' } });

    expect(response.json).toMatchObject({ services: expect.not.arrayContaining([STATUS_SERVICE_NAME]) });
  });

  it("asks Loki's label-values API for the namespace in max_query_length pieces, never a log line", async () => {
    const before = loki.requests.length;

    await invoke(handler, { path: '/services', query: { no_cache: 'true' } });

    const asked = loki.requests.slice(before);
    expect(new Set(asked.map((request) => request.path))).toEqual(
      new Set(['/loki/api/v1/label/service_name/values']),
    );
    expect(new Set(asked.map((request) => request.params.get('query')))).toEqual(
      new Set(['{service_namespace="github"}']),
    );
    expect(asked).toHaveLength(PIECES);
  });

  it('answers from the cache the second time', async () => {
    await invoke(handler, { path: '/services', query: { no_cache: 'true' } });
    const before = loki.requests.length;

    const response = await invoke(handler, { path: '/services' });

    expect(response.headers['X-Cache']).toBe('hit');
    expect(loki.requests.length).toBe(before);
  });

  it.each([
    ['name', 'Platform Core'],
    ['slug', 'platform-core'],
  ])(
    "narrows the list to the repositories GitHub says the team owns, by the team's %s",
    async (_kind, team) => {
      const response = await invoke(handler, { path: '/services', query: { team } });

      expect(response.json).toEqual({ services: ['api', 'web'] });
    },
  );

  it('answers an empty list for a team GitHub does not know', async () => {
    const response = await invoke(handler, { path: '/services', query: { team: 'No Such Team' } });

    expect({ status: response.statusCode, body: response.json }).toEqual({
      status: 200,
      body: { services: [] },
    });
  });

  it('treats an empty team= as no filter', async () => {
    const response = await invoke(handler, { path: '/services', query: { team: '' } });

    expect((response.json as { services: string[] }).services).toHaveLength(4);
  });

  it('serves the last list marked stale when Loki fails', async () => {
    await invoke(handler, { path: '/services', query: { no_cache: 'true' } });
    loki.failNext(503, PIECES);

    const response = await invoke(handler, { path: '/services', query: { no_cache: 'true' } });

    expect({ status: response.statusCode, cache: response.headers['X-Cache'] }).toEqual({
      status: 200,
      cache: 'stale',
    });
  });

  it('returns 400 naming an unknown parameter', async () => {
    const response = await invoke(handler, { path: '/services', query: { namespace: 'x' } });

    expect(response.statusCode).toBe(400);
    expect(response.json).toMatchObject({ errors: [{ field: 'namespace' }] });
  });
});

describe('GET /services when Loki fails and nothing is cached', () => {
  let loki: LokiServer;
  let restore: () => Promise<void>;

  beforeAll(async () => {
    ({ loki, restore } = await useLokiStandIn(
      { entries: ENTRIES },
      { GITHUB_ORG: '', GITHUB_TOKEN: '', LOKI_MAX_RETRIES: '0', SERVICE_NAME: 'fresh-namespace' },
    ));
  });
  afterAll(async () => restore());

  it('answers 502 naming Loki and its status', async () => {
    const { handler } = await import('../../functions/services');
    loki.failNext(503, PIECES);

    const response = await invoke(handler, { path: '/services' });

    expect(response.statusCode).toBe(502);
    expect(response.json).toMatchObject({ detail: expect.stringMatching(/Loki .*503/) });
  });
});

describe('GET /services without GitHub', () => {
  let loki: LokiServer;
  let restore: () => Promise<void>;
  let handler: typeof ServicesHandler;

  beforeAll(async () => {
    ({ loki, restore } = await useLokiStandIn({ entries: ENTRIES }, { GITHUB_ORG: '', GITHUB_TOKEN: '' }));
    ({ handler } = await import('../../functions/services'));
  });
  afterAll(async () => restore());

  it('still lists every service when no team is asked for', async () => {
    const response = await invoke(handler, { path: '/services', query: { no_cache: 'true' } });

    expect({ status: response.statusCode, body: response.json }).toEqual({
      status: 200,
      body: { services: ['api', 'checkout-service', 'Legacy Billing', 'web'] },
    });
  });

  it('returns 400 naming the team parameter and GITHUB_ORG when a team is asked for, without asking Loki', async () => {
    const before = loki.requests.length;

    const response = await invoke(handler, { path: '/services', query: { team: 'platform-core' } });

    expectBadRequestNaming(response, 'team');
    expect(response.json).toMatchObject({
      detail: expect.stringMatching(/GITHUB_ORG is not configured.*leave out team/),
      errors: [{ field: 'team', message: 'needs GitHub: GITHUB_ORG is not configured' }],
    });
    expect(loki.requests.length).toBe(before);
  });

  it('returns 400 naming GITHUB_TOKEN when only the organisation is configured', async () => {
    const restoreOrg = setEnv({ GITHUB_ORG: 'acme' });
    try {
      const response = await invoke(handler, { path: '/services', query: { team: 'platform-core' } });

      expectBadRequestNaming(response, 'team');
      expect(response.json).toMatchObject({
        errors: [
          { field: 'team', message: expect.stringMatching(/^needs GitHub: GITHUB_TOKEN is not configured/) },
        ],
      });
    } finally {
      restoreOrg();
    }
  });
});
