import { type LokiServer, startLokiServer } from '../../dev/loki-server';

/**
 * The imitation's label-values API answers as the real Loki 3.7.6 did when measured (lib/loki/labels.ts):
 * namespace scoping by a selector, 400s for pipelines and over-long ranges, no `data` when empty.
 */

const NOW_MS = Date.UTC(2026, 10, 28);
const ns = (ms: number) => `${BigInt(ms) * 1_000_000n}`;
const HOUR = 3_600_000;

describe('the Loki imitation: GET /loki/api/v1/label/<name>/values', () => {
  let loki: LokiServer;

  beforeAll(async () => {
    const entry = (service: string, namespace: string) => ({
      labels: { service_name: service, service_namespace: namespace, team_name: 'payments' },
      timestampNs: ns(NOW_MS - HOUR),
      line: '{}',
    });
    loki = await startLokiServer({
      entries: [entry('web', 'github'), entry('api', 'github'), entry('foreign', 'gitlab')],
    });
  });
  afterAll(async () => loki.close());

  const values = async (params: Record<string, string>, label = 'service_name') => {
    const response = await fetch(
      `${loki.url}/loki/api/v1/label/${label}/values?${new URLSearchParams({
        start: ns(NOW_MS - 2 * HOUR),
        end: ns(NOW_MS),
        ...params,
      })}`,
    );
    return { status: response.status, text: await response.text() };
  };

  it('answers the values of the streams the selector matches, sorted', async () => {
    expect(await values({ query: '{service_namespace="github"}' })).toEqual({
      status: 200,
      text: '{"status":"success","data":["api","web"]}',
    });
  });

  it('answers every stream without a query', async () => {
    expect(JSON.parse((await values({})).text).data).toEqual(['api', 'foreign', 'web']);
  });

  it('answers no data at all when nothing matches', async () => {
    expect(await values({ query: '{service_namespace="nope"}' })).toEqual({
      status: 200,
      text: '{"status":"success"}',
    });
  });

  it('knows index labels only, not structured metadata', async () => {
    expect((await values({}, 'team_name')).text).toBe('{"status":"success"}');
  });

  it('refuses a query with a pipeline stage', async () => {
    expect(await values({ query: '{service_namespace="github"} | team_name="payments"' })).toEqual({
      status: 400,
      text: 'only label matchers are supported',
    });
  });

  it('refuses a range over max_query_length', async () => {
    const response = await values({
      query: '{service_namespace="github"}',
      start: ns(NOW_MS - 1100 * 24 * HOUR),
    });

    expect(response).toEqual({
      status: 400,
      text: 'the query time range exceeds the limit (query length: 26400h0m0s, limit: 30d1h)',
    });
  });
});
