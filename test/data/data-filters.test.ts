import type { LokiServer } from '../../dev/loki-server';
import type { handler as DataHandler } from '../../functions/data';
import type { handler as MetricsHandler } from '../../functions/metrics';
import type { handler as SummaryHandler } from '../../functions/metrics-summary';
import type { DeploymentRecord } from '../../lib/dora/types';
import { generateSample } from '../../lib/sample/generator';
import { useLokiStandIn } from '../helpers/environment';
import { invoke } from '../helpers/lambda';

/** The dashboards' "nothing chosen" spellings and the `service` filter of the Backstage plugin 1.1+. */

const DAY = 86_400_000;
const END = Date.UTC(2026, 10, 27);
const sample = generateSample({ seed: 5, end: END, days: 30, repositories: 6, teams: 2 });
const WINDOW = { start: new Date(END - 30 * DAY).toISOString(), end: new Date(END).toISOString() };
const SERVICE = sample.teams[0]?.repositories[0] ?? 'missing';

describe('POST /data filters', () => {
  let loki: LokiServer;
  let restore: () => Promise<void>;
  let data: typeof DataHandler;
  let metrics: typeof MetricsHandler;
  let summary: typeof SummaryHandler;

  beforeAll(async () => {
    ({ loki, restore } = await useLokiStandIn(
      { entries: sample.entries },
      { GITHUB_ORG: '', GITHUB_TOKEN: '', DATA_CACHE_TTL_SECONDS: '0' },
    ));
    ({ handler: data } = await import('../../functions/data'));
    ({ handler: metrics } = await import('../../functions/metrics'));
    ({ handler: summary } = await import('../../functions/metrics-summary'));
  });
  afterAll(async () => restore());

  const post = async (body: Record<string, unknown>) => {
    const requestsBefore = loki.requests.length;
    const response = await invoke(data, { method: 'POST', path: '/data', body: { ...WINDOW, ...body } });
    const queries = loki.requests.slice(requestsBefore).map((request) => request.params.get('query') ?? '');
    return { response, queries, records: (response.json as { records?: DeploymentRecord[] }).records ?? [] };
  };

  it.each([
    ['"team": ""', { team: '' }],
    ['"repositories": []', { repositories: [] }],
    ['"service": ""', { service: '' }],
    ['all three empty and null', { team: '', repositories: [], service: null }],
  ])('answers every record for %s, like no filter', async (_name, body) => {
    const unfiltered = await post({});

    const asked = await post(body);

    expect(asked.response.statusCode).toBe(200);
    expect(asked.records).toEqual(unfiltered.records);
    expect(unfiltered.records.length).toBeGreaterThan(0);
  });

  it('answers only the records of the service given as "service", chosen in the stream selector', async () => {
    const { response, records, queries } = await post({ service: SERVICE });

    expect(response.statusCode).toBe(200);
    expect(records.length).toBeGreaterThan(0);
    expect(new Set(records.map((record) => record.repository))).toEqual(new Set([SERVICE]));
    expect(
      queries.every((query) => query.startsWith(`{service_namespace="github", service_name="${SERVICE}"}`)),
    ).toBe(true);
  });

  it('answers no record for a service Loki does not know', async () => {
    const { response, records } = await post({ service: 'no-such-service' });

    expect({ status: response.statusCode, records }).toEqual({ status: 200, records: [] });
  });

  it.each([
    ['a control character', 'a\u0007b', 'service'],
    ['an object', { $ne: null }, 'service'],
    ['256 characters', 's'.repeat(256), 'service'],
  ])('returns 400 naming the field for a service with %s', async (_name, service, field) => {
    const { response, queries } = await post({ service });

    expect(response.statusCode).toBe(400);
    expect((response.json as { errors: Array<{ field: string }> }).errors).toEqual([
      expect.objectContaining({ field }),
    ]);
    expect(queries).toEqual([]);
  });

  it('counts only the service given as service= in GET /metrics', async () => {
    const query = {
      metric: 'deployment_frequency',
      interval: 'all',
      start_date: new Date(END - 30 * DAY).toISOString().slice(0, 10),
      end_date: new Date(END - DAY).toISOString().slice(0, 10),
    };
    const serviceRecords = (await post({ service: SERVICE })).records;

    const all = await invoke(metrics, { path: '/metrics', query });
    const one = await invoke(metrics, { path: '/metrics', query: { ...query, service: SERVICE } });

    const [allBucket] = all.json as Array<{ count: number }>;
    const [oneBucket] = one.json as Array<{ count: number }>;
    expect(oneBucket?.count).toBe(serviceRecords.filter((record) => record.status).length);
    expect(oneBucket?.count).toBeLessThan(allBucket?.count ?? 0);
  });

  it('counts only the service given as service= in GET /metrics/summary', async () => {
    const query = {
      start_date: new Date(END - 14 * DAY).toISOString().slice(0, 10),
      end_date: new Date(END - DAY).toISOString().slice(0, 10),
    };
    const deployments = async (extra: Record<string, string>) => {
      const response = await invoke(summary, { path: '/metrics/summary', query: { ...query, ...extra } });
      expect(response.statusCode).toBe(200);
      return (response.json as { metrics: { deployment_frequency: { count: number } } }).metrics
        .deployment_frequency.count;
    };

    const all = await deployments({});
    const one = await deployments({ service: SERVICE });

    expect(one).toBeGreaterThan(0);
    expect(one).toBeLessThan(all);
  });
});
