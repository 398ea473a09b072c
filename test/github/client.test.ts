import { type GitHubServer, type StandInTeam, startGitHubServer } from '../../dev/github-server';
import { GitHubError } from '../../lib/errors';
import { createGitHubTeamSource, type RateLimitWait } from '../../lib/github/client';
import { rejectionOf } from '../helpers/errors';

const ORG = 'acme';
const TOKEN = 'ghp_standInSecretToken1234';

function manyTeams(count: number): StandInTeam[] {
  return Array.from({ length: count }, (_, index) => ({
    name: `Team ${String(index).padStart(3, '0')}`,
    repositories: [`service-${index}`, `app-${index}`],
  }));
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}

describe('GitHub team source', () => {
  let server: GitHubServer;
  let waits: RateLimitWait[];

  const source = (overrides: { org?: string; token?: string; maxRetries?: number } = {}) =>
    createGitHubTeamSource({
      org: overrides.org ?? ORG,
      apiUrl: server.url,
      token: overrides.token ?? TOKEN,
      concurrency: 8,
      maxRetries: overrides.maxRetries ?? 2,
      retryAfterBaseMs: 1,
      onRateLimitWait: (wait) => waits.push(wait),
    });

  beforeEach(() => {
    waits = [];
  });

  afterEach(async () => {
    await server.close();
  });

  it('reads every page of an organisation with several hundred teams, 100 a page', async () => {
    server = await startGitHubServer({ org: ORG, token: TOKEN, teams: manyTeams(350) });

    const teams = await source().listTeams();

    expect(teams).toHaveLength(350);
    expect(teams.find((team) => team.name === 'Team 349')).toEqual({
      name: 'Team 349',
      slug: 'team-349',
      repositories: ['app-349', 'service-349'],
    });
    const teamPages = server.requests.filter((request) => /\/orgs\/acme\/teams(\?|$)/.test(request.path));
    expect(
      teamPages.map((request) => new URL(request.path, server.url).searchParams.get('page') ?? '1'),
    ).toEqual(['1', '2', '3', '4']);
    expect(teamPages.every((request) => request.path.includes('per_page=100'))).toBe(true);
  });

  it('reads every page of a team with more than 100 repositories, sorted by name', async () => {
    const repositories = Array.from(
      { length: 230 },
      (_, index) => `repo-${String(229 - index).padStart(3, '0')}`,
    );
    server = await startGitHubServer({ org: ORG, token: TOKEN, teams: [{ name: 'Platform', repositories }] });

    const [team] = await source().listTeams();

    expect(team?.repositories).toHaveLength(230);
    expect(team?.repositories).toEqual([...repositories].sort());
    expect(server.requests.filter((request) => request.path.includes('/teams/platform/repos'))).toHaveLength(
      3,
    );
  });

  it('sends the token as the Authorization header', async () => {
    server = await startGitHubServer({ org: ORG, token: TOKEN, teams: manyTeams(1) });

    await source().listTeams();

    expect(server.requests[0]?.headers.authorization).toBe(`token ${TOKEN}`);
  });

  it('reports a rejected token as 502 without retrying and without the token in the message', async () => {
    server = await startGitHubServer({ org: ORG, token: TOKEN, teams: manyTeams(3) });

    const error = await rejectionOf(source({ token: 'ghp_wrongTokenValue' }).listTeams(), GitHubError);

    expect(error.statusCode).toBe(502);
    expect(error.publicMessage).toBe('GitHub refused the credentials (HTTP 401); check GITHUB_TOKEN');
    expect(JSON.stringify([error.message, String(error.cause)])).not.toContain('ghp_wrongTokenValue');
    expect(server.requests).toHaveLength(1);
  });

  it('reports an unknown organisation as 502 naming it', async () => {
    server = await startGitHubServer({ org: ORG, token: TOKEN, teams: manyTeams(3) });

    const error = await rejectionOf(source({ org: 'no-such-org' }).listTeams(), GitHubError);

    expect(error.statusCode).toBe(502);
    expect(error.publicMessage).toBe(
      "GitHub organisation 'no-such-org' was not found or the token cannot see it",
    );
  });

  it('reports an exhausted primary rate limit as 503 with Retry-After when the reset is far away', async () => {
    server = await startGitHubServer({ org: ORG, token: TOKEN, teams: manyTeams(3) });
    server.failNext({ kind: 'primary-rate-limit', resetInSeconds: 1800 });

    const error = await rejectionOf(source().listTeams(), GitHubError);

    expect(error.statusCode).toBe(503);
    expect(Number(error.headers['Retry-After'])).toBeGreaterThanOrEqual(1795);
    expect(Number(error.headers['Retry-After'])).toBeLessThanOrEqual(1801);
    expect(waits).toEqual([]);
    expect(server.requests).toHaveLength(1);
  });

  it('waits out a primary rate limit that resets within seconds, then succeeds', async () => {
    server = await startGitHubServer({ org: ORG, token: TOKEN, teams: manyTeams(2) });
    server.failNext({ kind: 'primary-rate-limit', resetInSeconds: 1, status: 429 });

    const teams = await source().listTeams();

    expect(teams).toHaveLength(2);
    expect(waits).toEqual([expect.objectContaining({ kind: 'primary', retryCount: 0 })]);
  });

  it.each([403, 429] as const)(
    'retries a secondary rate limit (HTTP %s) after retry-after, then succeeds',
    async (status) => {
      server = await startGitHubServer({ org: ORG, token: TOKEN, teams: manyTeams(2) });
      server.failNext({ kind: 'secondary-rate-limit', retryAfterSeconds: 2, status }, 2);

      const teams = await source().listTeams();

      expect(teams).toHaveLength(2);
      expect(waits.map((wait) => [wait.kind, wait.retryAfterSeconds, wait.retryCount])).toEqual([
        ['secondary', 2, 0],
        ['secondary', 2, 1],
      ]);
    },
  );

  it('gives up after the configured number of retries and answers 503 with Retry-After', async () => {
    server = await startGitHubServer({ org: ORG, token: TOKEN, teams: manyTeams(2) });
    server.failNext({ kind: 'secondary-rate-limit', retryAfterSeconds: 3 }, 10);

    const error = await rejectionOf(source({ maxRetries: 2 }).listTeams(), GitHubError);

    expect(error.statusCode).toBe(503);
    expect(error.headers['Retry-After']).toBe('3');
    expect(server.requests).toHaveLength(3);
  });

  it('does not wait a minute for a secondary limit without retry-after: 503 asking for 60 s', async () => {
    server = await startGitHubServer({ org: ORG, token: TOKEN, teams: manyTeams(2) });
    server.failNext({ kind: 'secondary-rate-limit' });

    const error = await rejectionOf(source().listTeams(), GitHubError);

    expect(error.statusCode).toBe(503);
    expect(error.headers['Retry-After']).toBe('60');
    expect(server.requests).toHaveLength(1);
  });

  it('retries a server error a bounded number of times, then reports the status as 502', async () => {
    server = await startGitHubServer({ org: ORG, token: TOKEN, teams: manyTeams(2) });
    server.failNext({ kind: 'status', status: 500 }, 10);

    const error = await rejectionOf(source({ maxRetries: 1 }).listTeams(), GitHubError);

    expect(error.statusCode).toBe(502);
    expect(error.publicMessage).toBe('GitHub answered HTTP 500');
    expect(server.requests).toHaveLength(2);
  });

  it('recovers from a transient server error', async () => {
    server = await startGitHubServer({ org: ORG, token: TOKEN, teams: manyTeams(2) });
    server.failNext({ kind: 'status', status: 502 });

    await expect(source().listTeams()).resolves.toHaveLength(2);
  });

  it('answers 504 when the listing is aborted before GitHub answers', async () => {
    server = await startGitHubServer({ org: ORG, token: TOKEN, teams: manyTeams(2) });
    server.failNext({ kind: 'slow', ms: 60_000 });
    const controller = new AbortController();

    const listing = rejectionOf(source().listTeams(controller.signal), GitHubError);
    await until(() => server.requests.length === 1);
    controller.abort();
    const error = await listing;

    expect(error.statusCode).toBe(504);
    expect(error.publicMessage).toBe('GitHub did not list the teams in time');
  });

  it('reports an unreachable GitHub as 502', async () => {
    server = await startGitHubServer({ org: ORG, token: TOKEN, teams: [] });
    const url = server.url;
    await server.close();
    server = await startGitHubServer({ org: ORG, teams: [] });

    const error = await rejectionOf(
      createGitHubTeamSource({
        org: ORG,
        apiUrl: url,
        token: TOKEN,
        concurrency: 1,
        maxRetries: 0,
      }).listTeams(),
      GitHubError,
    );

    expect(error.statusCode).toBe(502);
    expect(error.publicMessage).toBe(
      `GitHub could not be reached at ${new URL(url).host}: connection refused (ECONNREFUSED)`,
    );
  });
});
