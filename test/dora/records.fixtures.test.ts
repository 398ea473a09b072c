import { buildDeployments, toRecords } from '../../lib/dora/records';
import type { EventBatch } from '../../lib/dora/types';
import { describeWithFixtures, fixtureEvents } from '../helpers/fixtures';

/** Wide enough for every fixture event. */
const EVERYTHING = { start: Date.parse('2000-01-01T00:00:00Z'), end: Date.parse('2100-01-01T00:00:00Z') };
const RFC3339_UTC = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z$/;
const TIME_KEYS = ['failed_at', 'merged_at', 'created_at', 'fixed_at'] as const;

describeWithFixtures('records built from the real Loki fixtures', () => {
  let events: EventBatch;

  beforeAll(() => {
    events = fixtureEvents();
  });

  function recordsFor(productionEnvironments: string[]) {
    return toRecords(buildDeployments(events, { window: EVERYTHING, productionEnvironments }));
  }

  it('turns only the production and prod events (20 of 232) into records, without their repeats', () => {
    const production = events.deployments.filter((event) =>
      ['production', 'prod'].includes(event.environment.toLowerCase()),
    );

    const records = recordsFor(['production', 'prod']);

    expect(events.deployments).toHaveLength(232);
    expect(production).toHaveLength(20);
    expect(
      records.map((record) => [record.repository, record.sha.slice(0, 8), record.created_at, record.status]),
    ).toEqual([
      ['clockwork', 'ad664f40', '2024-08-30T11:00:36Z', true],
      ['clockwork', 'ea547b11', '2024-09-10T16:13:02Z', true],
      ['clockwork', 'c4cf3ee6', '2024-09-10T16:20:24Z', true],
      ['liatrio-backstage', '3c56d9f1', '2024-09-11T00:42:15Z', true],
      ['clockwork', 'c4cf3ee6', '2024-09-12T11:00:50Z', false],
      ['clockwork', 'c4cf3ee6', '2024-09-12T15:24:50Z', true],
      ['liatrio-backstage', '02b07bb8', '2024-09-13T19:15:01Z', true],
      ['liatrio-backstage', '947e77af', '2024-09-13T19:22:21Z', true],
    ]);
  });

  it('gives the failed clockwork deployment its failed_at and the retry of its sha as the fix', () => {
    const failed = recordsFor(['production', 'prod']).filter((record) => !record.status);

    expect(failed).toEqual([
      expect.objectContaining({
        repository: 'clockwork',
        failed_at: '2024-09-12T11:00:50Z',
        fixed_at: '2024-09-12T15:24:50Z',
        fixed_url: 'https://github.com/liatrio/clockwork/deployments/production',
      }),
    ]);
  });

  it('joins the merged pull request of a deployed merge commit', () => {
    const deployed = recordsFor(['production']).find((record) => record.sha.startsWith('ea547b11'));

    expect(deployed).toMatchObject({
      title: 'chore: update Hadolint fail threshold & remove versions from deps in Dockerfile',
      user: 'ryderstorm',
      merged_at: '2024-09-10T16:09:11Z',
    });
  });

  it('does not count nonprod, prod-like or development environments as production', () => {
    const environments = new Set(events.deployments.map((event) => event.environment));

    const built = buildDeployments(events, {
      window: EVERYTHING,
      productionEnvironments: ['production', 'prod'],
    });

    expect(environments).toContain('nonprod');
    expect(new Set(built.map((deployment) => deployment.environment))).toEqual(
      new Set(['production', 'prod']),
    );
  });

  it('builds complete records for every environment: 15 keys, UTC times, failed ones with failed_at', () => {
    const allEnvironments = [...new Set(events.deployments.map((event) => event.environment.toLowerCase()))];

    const records = recordsFor(allEnvironments);

    expect(records.length).toBeGreaterThan(20);
    for (const record of records) {
      expect(Object.keys(record)).toHaveLength(15);
      expect(Object.values(record)).not.toContain(undefined);
      for (const key of TIME_KEYS) {
        const time = record[key];
        if (time !== null) expect(time).toMatch(RFC3339_UTC);
      }
      if (!record.status) expect(record.failed_at).not.toBeNull();
      expect(record.change_url).toBe(`https://github.com/liatrio/${record.repository}/commit/${record.sha}`);
      expect(record.deploy_url).toMatch(/^https:\/\/github\.com\/liatrio\//);
    }
  });

  it('ignores the incident raised before dora-deploy-demo’s first known deployment', () => {
    const records = recordsFor(['dev']).filter((record) => record.repository === 'dora-deploy-demo');

    expect(records.length).toBeGreaterThan(0);
    expect(records.every((record) => record.issue_url === null && record.failed_at === null)).toBe(true);
  });
});
