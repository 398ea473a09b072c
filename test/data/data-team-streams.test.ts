import type { LokiServer } from '../../dev/loki-server';
import type { handler as DataHandler } from '../../functions/data';
import { generateSample } from '../../lib/sample/generator';
import { setEnv, useStandIns } from '../helpers/environment';
import { postTeamData } from '../helpers/team-data';

const END = Date.UTC(2026, 10, 27);
const sample = generateSample({ seed: 11, end: END, days: 30, repositories: 10, teams: 3 });
const defined = <T>(value: T | undefined, what: string): T => {
  if (value === undefined) throw new Error(`the sample has no ${what}`);
  return value;
};
const team = defined(sample.teams[0], 'first team');
const otherTeam = defined(sample.teams[1], 'second team');
const lastTeam = defined(sample.teams[2], 'third team');
const otherTeamsRepository = defined(otherTeam.repositories[0], "second team's repository");
const unownedRepository = defined(lastTeam.repositories[0], "third team's repository");
const restOfLastTeam = lastTeam.repositories.slice(1);

// GitHub: no team owns `unownedRepository`. Loki: it and one of `otherTeam`'s repositories carry the
// team's name on their events (a collector labelling from repository properties GitHub disagrees with).
const githubTeams = sample.teams.map((each) =>
  each === lastTeam ? { ...each, repositories: restOfLastTeam } : each,
);
const labelledForTeam = new Set([otherTeamsRepository, unownedRepository]);
const entries = sample.entries.map((entry) =>
  labelledForTeam.has(entry.labels.vcs_repository_name ?? '')
    ? { ...entry, labels: { ...entry.labels, team_name: team.name } }
    : entry,
);

describe('POST /data for a team, by LOKI_TEAM_STREAMS', () => {
  let loki: LokiServer;
  let restore: () => Promise<void>;
  let handler: typeof DataHandler;

  beforeAll(async () => {
    ({ loki, restore } = await useStandIns({ entries, org: sample.org, teams: githubTeams }));
    ({ handler } = await import('../../functions/data'));
  });
  afterAll(async () => restore());

  async function teamRecords(teamStreams: string) {
    const restoreEnv = setEnv({ LOKI_TEAM_STREAMS: teamStreams });
    try {
      return await postTeamData(handler, loki, team.name, END);
    } finally {
      restoreEnv();
    }
  }

  it("reads every stream except other teams' repositories by default, so unowned repositories still count", async () => {
    const { repositories, queries } = await teamRecords('');

    expect(repositories).toEqual(new Set([...team.repositories, unownedRepository]));
    expect(queries.length).toBeGreaterThan(0);
    for (const query of queries) expect(query).toContain(`service_name!~"`);
    for (const query of queries) expect(query).toContain(otherTeamsRepository);
  });

  it("counts events labelled with the team in another team's repository only when reading all streams", async () => {
    const { repositories, queries } = await teamRecords('all');

    expect(repositories).toEqual(new Set([...team.repositories, unownedRepository, otherTeamsRepository]));
    for (const query of queries) expect(query).toMatch(/^\{service_namespace="github"\} \|/);
  });

  it('reads only the streams no GitHub team owns for a team GitHub does not know', async () => {
    const restoreEnv = setEnv({ LOKI_TEAM_STREAMS: '' });
    try {
      const { records, queries } = await postTeamData(handler, loki, 'No Such Team', END);

      expect(records).toEqual([]);
      for (const query of queries) {
        for (const name of githubTeams.flatMap((each) => each.repositories)) expect(query).toContain(name);
        expect(query).not.toContain(unownedRepository);
      }
    } finally {
      restoreEnv();
    }
  });

  it("reads only the team's own repositories' streams when set to owned", async () => {
    const { repositories } = await teamRecords('owned');

    expect(repositories).toEqual(new Set(team.repositories));
  });
});
