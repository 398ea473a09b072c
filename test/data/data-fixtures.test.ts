import type { LokiServer } from '../../dev/loki-server';
import type { handler as DataHandler } from '../../functions/data';
import type { DeploymentRecord } from '../../lib/dora/types';
import { useLokiStandIn } from '../helpers/environment';
import { CONTRACT_RECORD_KEYS, describeWithFixtures, fixtureEntries } from '../helpers/fixtures';
import { invoke } from '../helpers/lambda';

describeWithFixtures('POST /data over the real Loki fixtures', () => {
  let loki: LokiServer;
  let restore: () => Promise<void>;
  let handler: typeof DataHandler;

  beforeAll(async () => {
    const entries = [
      ...fixtureEntries('deployments'),
      ...fixtureEntries('incidents'),
      ...fixtureEntries('merges'),
    ];
    ({ loki, restore } = await useLokiStandIn(
      { entries },
      { GITHUB_ORG: '', GITHUB_TOKEN: '', LOKI_PAGE_LIMIT: '50' },
    ));
    ({ handler } = await import('../../functions/data'));
  });
  afterAll(async () => restore());

  async function records(body: Record<string, unknown>): Promise<DeploymentRecord[]> {
    const response = await invoke(handler, {
      method: 'POST',
      path: '/data',
      body,
      query: { no_cache: 'true' },
    });
    expect(response.statusCode).toBe(200);
    return (response.json as { records: DeploymentRecord[] }).records;
  }

  it('returns one record per production deployment, repeated deployments of a sha removed', async () => {
    const result = await records({ start: '2024-08-01T00:00:00Z', end: '2024-10-01T00:00:00Z' });

    // 20 of the 232 events are in `production`/`prod`; clockwork redeploys one sha daily, which is no change.
    expect(
      result.map((record) => `${record.repository} ${record.sha.slice(0, 8)} ${record.created_at}`),
    ).toEqual([
      'clockwork ad664f40 2024-08-30T11:00:36Z',
      'clockwork ea547b11 2024-09-10T16:13:02Z',
      'clockwork c4cf3ee6 2024-09-10T16:20:24Z',
      'liatrio-backstage 3c56d9f1 2024-09-11T00:42:15Z',
      'clockwork c4cf3ee6 2024-09-12T11:00:50Z',
      'clockwork c4cf3ee6 2024-09-12T15:24:50Z',
      'liatrio-backstage 02b07bb8 2024-09-13T19:15:01Z',
      'liatrio-backstage 947e77af 2024-09-13T19:22:21Z',
    ]);
  });

  it('gives every record the 15 keys of the contract, null where there is no value', async () => {
    const result = await records({ start: '2024-08-01T00:00:00.000Z', end: '2024-10-01T00:00:00.000Z' });

    for (const record of result) {
      expect(Object.keys(record)).toEqual(CONTRACT_RECORD_KEYS);
      expect(record.created_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      expect(record.deploy_url).toMatch(/^https:\/\/github\.com\/liatrio\//);
      expect(record.change_url).toBe(`https://github.com/liatrio/${record.repository}/commit/${record.sha}`);
      expect(record.total_cycle_time).toBeNull();
    }
  });

  it('marks the failed deployment and fixes it with the next healthy deployment', async () => {
    const result = await records({ start: '2024-08-01T00:00:00Z', end: '2024-10-01T00:00:00Z' });

    const failed = result.filter((record) => !record.status);
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({
      repository: 'clockwork',
      failed_at: '2024-09-12T11:00:50Z',
      fixed_at: '2024-09-12T15:24:50Z',
      fixed_url: expect.stringMatching(/^https:\/\/github\.com\/liatrio\/clockwork\//),
    });
  });

  it('narrows to the requested repositories with one regular expression in LogQL', async () => {
    const before = loki.requests.length;

    const result = await records({
      start: '2024-08-01T00:00:00Z',
      end: '2024-10-01T00:00:00Z',
      repositories: ['liatrio-backstage', 'no-such-repo'],
    });

    expect(new Set(result.map((record) => record.repository))).toEqual(new Set(['liatrio-backstage']));
    const queries = loki.requests.slice(before).map((request) => request.params.get('query') ?? '');
    expect(
      queries.every((query) => query.includes('vcs_repository_name=~"liatrio-backstage|no-such-repo"')),
    ).toBe(true);
  });

  it('only returns deployments inside the window, but still fixes failures with deployments after it', async () => {
    const result = await records({ start: '2024-09-12T00:00:00Z', end: '2024-09-12T12:00:00Z' });

    expect(result).toHaveLength(1);
    expect(result[0]).toMatchObject({ status: false, fixed_at: '2024-09-12T15:24:50Z' });
  });
});
