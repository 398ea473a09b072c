import type { LokiServer } from '../../dev/loki-server';
import type { handler as DataHandler } from '../../functions/data';
import type { DeploymentRecord } from '../../lib/dora/types';
import { generateSample } from '../../lib/sample/generator';
import { useStandIns } from '../helpers/environment';
import { invoke } from '../helpers/lambda';
import { postTeamData } from '../helpers/team-data';

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
  let restore: () => Promise<void>;
  let handler: typeof DataHandler;

  beforeAll(async () => {
    ({ loki, restore } = await useStandIns({ entries: slugLabelled, org: sample.org, teams: sample.teams }));
    ({ handler } = await import('../../functions/data'));
  });
  afterAll(async () => restore());

  const repositoriesFor = async (teamAsAsked: string) =>
    (await postTeamData(handler, loki, teamAsAsked, END)).repositories;

  it('finds the events labelled with the slug when asked for the team name', async () => {
    const { repositories, queries } = await postTeamData(handler, loki, team.name, END);

    expect(repositories).toEqual(new Set(team.repositories));
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

describe('POST /data with a team whose repositories another team can access too', () => {
  // GitHub: an organisation-wide team, first in name order, has access to every repository. Loki: no event
  // carries team_name (events written through POST /events/deployments without a team look like this).
  const everyone = {
    name: 'All Engineers',
    slug: 'all-engineers',
    repositories: sample.teams.flatMap((each) => each.repositories),
  };
  const unlabelled = sample.entries.map((entry) => {
    const { team_name: _dropped, ...labels } = entry.labels;
    return { ...entry, labels };
  });
  let loki: LokiServer;
  let restore: () => Promise<void>;
  let handler: typeof DataHandler;

  beforeAll(async () => {
    ({ loki, restore } = await useStandIns({
      entries: unlabelled,
      org: sample.org,
      teams: [everyone, ...sample.teams],
    }));
    ({ handler } = await import('../../functions/data'));
  });
  afterAll(async () => restore());

  it("counts the unlabelled deployments of the team's own repositories for it", async () => {
    const { repositories, records } = await postTeamData(handler, loki, team.name, END);

    expect(records.length).toBeGreaterThan(0);
    expect(repositories).toEqual(new Set(team.repositories));
  });

  it('counts the same deployments for the organisation-wide team too', async () => {
    const { records: teamRecords } = await postTeamData(handler, loki, team.name, END);

    const { repositories } = await postTeamData(handler, loki, everyone.name, END);

    for (const record of teamRecords) expect(repositories).toContain(record.repository);
  });
});
