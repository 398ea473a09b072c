import { type GitHubServer, startGitHubServer } from '../../dev/github-server';
import type { LokiServer } from '../../dev/loki-server';
import type { handler as DataHandler } from '../../functions/data';
import type { DeploymentRecord } from '../../lib/dora/types';
import { resetTeamDirectoriesForTests } from '../../lib/github/directory';
import { generateSample } from '../../lib/sample/generator';
import { useLokiStandIn } from '../helpers/environment';
import { invoke } from '../helpers/lambda';

const DAY = 86_400_000;
const END = Date.UTC(2026, 10, 27);
const sample = generateSample({ seed: 11, end: END, days: 30, repositories: 10, teams: 3 });
const team = sample.teams.find(
  (candidate) => candidate.name !== candidate.slug && candidate.repositories.length > 1,
);
if (team === undefined) throw new Error('the sample needs a team whose slug differs from its name');

/** The same events, but labelled with the team's slug, as collectors fed from repository properties do. */
const slugLabelled = sample.entries.map((entry) =>
  entry.labels.team_name === team.name
    ? { ...entry, labels: { ...entry.labels, team_name: team.slug } }
    : entry,
);

describe('POST /data with a team known to GitHub by a name and a slug', () => {
  let loki: LokiServer;
  let github: GitHubServer;
  let restore: () => Promise<void>;
  let handler: typeof DataHandler;

  beforeAll(async () => {
    github = await startGitHubServer({ org: sample.org, teams: sample.teams, token: 'test-token' });
    ({ loki, restore } = await useLokiStandIn(
      { entries: slugLabelled },
      { GITHUB_ORG: sample.org, GITHUB_TOKEN: 'test-token', GITHUB_API_URL: github.url },
    ));
    resetTeamDirectoriesForTests();
    ({ handler } = await import('../../functions/data'));
  });
  afterAll(async () => {
    await restore();
    await github.close();
  });

  const repositoriesFor = async (teamAsAsked: string): Promise<Set<string>> => {
    const response = await invoke(handler, {
      method: 'POST',
      path: '/data',
      query: { no_cache: 'true' },
      body: {
        start: new Date(END - 30 * DAY).toISOString(),
        end: new Date(END).toISOString(),
        team: teamAsAsked,
      },
    });
    expect(response.statusCode).toBe(200);
    return new Set(
      (response.json as { records: DeploymentRecord[] }).records.map((record) => record.repository),
    );
  };

  it('finds the events labelled with the slug when asked for the team name', async () => {
    const requestsBefore = loki.requests.length;

    const repositories = await repositoriesFor(team.name);

    expect(repositories).toEqual(new Set(team.repositories));
    const queries = loki.requests.slice(requestsBefore).map((request) => request.params.get('query') ?? '');
    expect(queries.some((query) => query.includes(`team_name=~"${team.name}|${team.slug}"`))).toBe(true);
  });

  it('answers the same when asked for the slug', async () => {
    expect(await repositoriesFor(team.slug)).toEqual(await repositoriesFor(team.name));
  });

  it.each([
    ['slug', team.slug],
    ['name', team.name],
  ])('writes the team as the request spelled it (the %s) in every record', async (_spelling, asked) => {
    const response = await invoke(handler, {
      method: 'POST',
      path: '/data',
      body: { start: new Date(END - 30 * DAY).toISOString(), end: new Date(END).toISOString(), team: asked },
    });

    const { records } = response.json as { records: DeploymentRecord[] };
    expect(records.length).toBeGreaterThan(0);
    expect(new Set(records.map((record) => record.team))).toEqual(new Set([asked]));
  });

  it('still filters by the label alone for a team GitHub does not know', async () => {
    expect(await repositoriesFor('No Such Team')).toEqual(new Set());
  });
});
