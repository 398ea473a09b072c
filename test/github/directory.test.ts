import { startGitHubServer } from '../../dev/github-server';
import { parseConfig } from '../../lib/config';
import type { Team } from '../../lib/dora/types';
import { GitHubError } from '../../lib/errors';
import {
  createTeamDirectory,
  getTeamDirectory,
  requireTeamDirectory,
  resetTeamDirectoriesForTests,
  teamsByRepository,
} from '../../lib/github/directory';
import type { TeamSource } from '../../lib/github/types';
import type { Secrets } from '../../lib/secrets';
import { controllableClock, gate } from '../helpers/control';

const TTL_MS = 15 * 60_000;

const platform: Team = { name: 'Platform', slug: 'platform', repositories: ['api', 'infra'] };
const checkout: Team = { name: 'Checkout', slug: 'checkout', repositories: ['cart', 'api'] };

/** A team source whose answers the test scripts: each call takes the next answer. */
function scriptedSource(...answers: Array<Team[] | Error>) {
  let calls = 0;
  const { pass, hold, release } = gate();
  const source: TeamSource = {
    async listTeams() {
      calls += 1;
      await pass();
      const answer = answers[Math.min(calls, answers.length) - 1];
      if (answer === undefined) throw new Error('no scripted answer');
      if (answer instanceof Error) throw answer;
      return answer.map((team) => ({ ...team, repositories: [...team.repositories] }));
    },
  };
  return {
    source: () => source,
    calls: () => calls,
    hold,
    release,
  };
}

describe('team directory', () => {
  it('fetches once, then serves the list from memory until the TTL expires', async () => {
    const clock = controllableClock();
    const script = scriptedSource([platform], [platform, checkout]);
    const directory = createTeamDirectory(script.source, { ttlMs: TTL_MS, now: clock.now });

    const first = await directory.getTeams();
    clock.advance(TTL_MS - 1);
    const second = await directory.getTeams();
    clock.advance(1);
    const third = await directory.getTeams();

    expect([first.cache, second.cache, third.cache]).toEqual(['miss', 'hit', 'miss']);
    expect(second.teams.map((team) => team.name)).toEqual(['Platform']);
    expect(third.teams.map((team) => team.name)).toEqual(['Checkout', 'Platform']);
    expect(third.fetchedAt).toBe(clock.now());
    expect(script.calls()).toBe(2);
  });

  it('shares one fetch between concurrent callers on a cold cache', async () => {
    const script = scriptedSource([platform, checkout]);
    const directory = createTeamDirectory(script.source, { ttlMs: TTL_MS });
    script.hold();

    const callers = Array.from({ length: 20 }, () => directory.getTeams());
    const byRepository = directory.teamsByRepository();
    script.release();
    const lists = await Promise.all(callers);

    expect(script.calls()).toBe(1);
    expect(new Set(lists.map((list) => list.teams)).size).toBe(1);
    expect((await byRepository).get('cart')).toBe('Checkout');
  });

  it('serves the expired list marked stale when GitHub fails, and says why', async () => {
    const clock = controllableClock();
    const rateLimited = new GitHubError('GitHub rate limit exceeded (HTTP 403); retry in 60 s', {
      statusCode: 503,
      headers: { 'Retry-After': '60' },
    });
    const script = scriptedSource([platform], rateLimited, [checkout]);
    const directory = createTeamDirectory(script.source, { ttlMs: TTL_MS, now: clock.now });
    const fresh = await directory.getTeams();
    clock.advance(TTL_MS);

    const stale = await directory.getTeams();
    clock.advance(60_000);
    const recovered = await directory.getTeams();

    expect(stale).toEqual({
      teams: fresh.teams,
      fetchedAt: fresh.fetchedAt,
      stale: true,
      cache: 'stale',
      staleReason: 'GitHub rate limit exceeded (HTTP 403); retry in 60 s',
    });
    expect(recovered.cache).toBe('miss');
    expect(recovered.teams.map((team) => team.name)).toEqual(['Checkout']);
  });

  it('abandons a fetch that runs past its time budget and serves the stale list', async () => {
    let calls = 0;
    const stallingAfterFirst: TeamSource = {
      listTeams: (signal) => {
        calls += 1;
        if (calls === 1) return Promise.resolve([platform]);
        return new Promise((_resolve, reject) => {
          signal?.addEventListener('abort', () =>
            reject(new GitHubError('GitHub did not list the teams in time')),
          );
        });
      },
    };
    const directory = createTeamDirectory(() => stallingAfterFirst, { ttlMs: TTL_MS, fetchTimeoutMs: 20 });
    await directory.getTeams();

    const list = await directory.getTeams({ refresh: true });

    expect(list.cache).toBe('stale');
    expect(list.teams.map((team) => team.name)).toEqual(['Platform']);
    expect(list.staleReason).toBe('GitHub did not list the teams in time');
  });

  it('does not ask GitHub again before a rate limit resets, answering 503 with the time left', async () => {
    const clock = controllableClock();
    const rateLimited = new GitHubError('GitHub rate limit exceeded (HTTP 403); retry in 60 s', {
      statusCode: 503,
      headers: { 'Retry-After': '60' },
    });
    const script = scriptedSource(rateLimited, [platform]);
    const directory = createTeamDirectory(script.source, { ttlMs: TTL_MS, now: clock.now });
    await expect(directory.getTeams()).rejects.toBe(rateLimited);
    clock.advance(45_000);

    const whileLimited = directory.getTeams({ refresh: true });
    await expect(whileLimited).rejects.toMatchObject({ statusCode: 503, headers: { 'Retry-After': '15' } });
    clock.advance(15_000);
    const afterReset = await directory.getTeams();

    expect(afterReset.teams.map((team) => team.name)).toEqual(['Platform']);
    expect(script.calls()).toBe(2);
  });

  it('fails with the GitHub error when nothing was ever cached', async () => {
    const refused = new GitHubError('GitHub refused the credentials (HTTP 401); check GITHUB_TOKEN');
    const directory = createTeamDirectory(scriptedSource(refused).source, { ttlMs: TTL_MS });

    await expect(directory.getTeams()).rejects.toBe(refused);
  });

  it('fetches again on refresh even while the cached list is fresh', async () => {
    const script = scriptedSource([platform], [checkout]);
    const directory = createTeamDirectory(script.source, { ttlMs: TTL_MS });
    await directory.getTeams();

    const refreshed = await directory.getTeams({ refresh: true });

    expect(refreshed.cache).toBe('miss');
    expect(refreshed.teams.map((team) => team.name)).toEqual(['Checkout']);
    expect(script.calls()).toBe(2);
  });

  it('resolves repositories from the same cached list, without another fetch', async () => {
    const script = scriptedSource([platform, checkout]);
    const directory = createTeamDirectory(script.source, { ttlMs: TTL_MS });
    await directory.getTeams();

    const owners = await directory.teamsByRepository();

    expect(Object.fromEntries(owners)).toEqual({ api: 'Checkout', cart: 'Checkout', infra: 'Platform' });
    expect(script.calls()).toBe(1);
  });
});

describe('teamsByRepository', () => {
  it('gives a repository owned by several teams to the first team in name order', () => {
    const owners = teamsByRepository([platform, checkout]);

    expect(owners.get('api')).toBe('Checkout');
    expect(owners.get('infra')).toBe('Platform');
    expect(owners.has('unknown')).toBe(false);
  });
});

describe('getTeamDirectory', () => {
  const secrets = (githubToken?: string): Secrets => ({
    githubToken,
    lokiToken: undefined,
    authJwtSecret: undefined,
    githubWebhookSecret: undefined,
  });
  const config = (env: Record<string, string> = {}) => parseConfig({ GITHUB_ORG: 'acme', ...env });

  afterEach(() => resetTeamDirectoriesForTests());

  it('is undefined when GITHUB_ORG or GITHUB_TOKEN is missing, so /data works without GitHub', () => {
    expect(getTeamDirectory(parseConfig({}), secrets('ghp_token1'))).toBeUndefined();
    expect(getTeamDirectory(config(), secrets(undefined))).toBeUndefined();
  });

  it('keeps one directory (and its cache) per organisation for the life of the container', () => {
    const first = getTeamDirectory(config(), secrets('ghp_token1'));
    const rotatedToken = getTeamDirectory(config(), secrets('ghp_token2'));
    const otherOrg = getTeamDirectory(config({ GITHUB_ORG: 'other' }), secrets('ghp_token1'));

    expect(first).toBeDefined();
    expect(rotatedToken).toBe(first);
    expect(otherOrg).not.toBe(first);
  });

  it('uses the current token after a rotation', async () => {
    const server = await startGitHubServer({ org: 'acme', token: 'ghp_token2', teams: [platform] });
    try {
      const settings = config({ GITHUB_API_URL: server.url, GITHUB_MAX_RETRIES: '0' });
      getTeamDirectory(settings, secrets('ghp_token1'));

      const teams = await getTeamDirectory(settings, secrets('ghp_token2'))?.getTeams();

      expect(teams?.teams.map((team) => team.name)).toEqual(['Platform']);
    } finally {
      await server.close();
    }
  });

  it('answers 500 naming the missing setting for routes that need GitHub', () => {
    expect(() => requireTeamDirectory(parseConfig({}), secrets('ghp_token1'))).toThrow(
      expect.objectContaining({ statusCode: 500, publicMessage: 'GITHUB_ORG is not configured' }),
    );
  });
});
