import type { handler as DataHandler } from '../../functions/data';
import type { handler as MetricsHandler } from '../../functions/metrics';
import type { handler as SummaryHandler } from '../../functions/metrics-summary';
import { METRICS } from '../../lib/dora/metrics';
import type { DeploymentRecord } from '../../lib/dora/types';
import { type Backends, timingReport, useBackends } from './backends';
import { BUSY_REPOSITORY, DAY, ORG_END } from './organisation';
import { describeWithRealLoki } from './real-loki';

/**
 * The same organisation answered over the real Loki and over the imitation must be the same answer,
 * record for record and value for value. Whatever the client asks of Loki (one query per kind or one
 * for all, a stream selector or a label filter), these compare what the handlers answer.
 */

const INTERVALS = ['daily', 'weekly', 'monthly', 'all'] as const;

/** Filters of /metrics and /metrics/summary; each period longer than 30 days makes the client split. */
const METRIC_CASES: Array<[string, Record<string, string>]> = [
  ['the organisation over 44 days', { start_date: '2026-10-14', end_date: '2026-11-26' }],
  [
    'two repositories, one busy past a 5,000-line page',
    { start_date: '2026-10-28', end_date: '2026-11-26', repositories: `${BUSY_REPOSITORY},payments-api` },
  ],
  ['a team by its name', { start_date: '2026-10-20', end_date: '2026-11-26', team: 'Platform Core' }],
  ['a team by its slug', { start_date: '2026-10-20', end_date: '2026-11-26', team: 'platform-core' }],
  [
    'the team owning the repository whose streams carry no team_name',
    { start_date: '2026-10-20', end_date: '2026-11-26', team: 'tag-o11y' },
  ],
];

const iso = (ms: number) => new Date(ms).toISOString();

const DATA_CASES: Array<[string, Record<string, unknown>, number]> = [
  [
    'the organisation over 43 days from a mid-day start (past max_query_length)',
    { start: '2026-10-14T13:17:23.456Z', end: '2026-11-26T00:00:00Z' },
    1000,
  ],
  [
    'the busy repository over 30 days (its merges run past one 5,000-line page)',
    { start: iso(ORG_END - 30 * DAY), end: iso(ORG_END), repositories: [BUSY_REPOSITORY] },
    1000,
  ],
  [
    'two repositories',
    { start: iso(ORG_END - 40 * DAY), end: iso(ORG_END), repositories: ['payments-api', 'web-storefront'] },
    10,
  ],
  ['a team by its name', { start: iso(ORG_END - 40 * DAY), end: iso(ORG_END), team: 'Payments' }, 10],
  ['a team by its slug', { start: iso(ORG_END - 40 * DAY), end: iso(ORG_END), team: 'platform-core' }, 10],
  [
    'the team owning the repository whose streams carry no team_name',
    { start: iso(ORG_END - 40 * DAY), end: iso(ORG_END), team: 'tag-o11y' },
    1000,
  ],
  [
    'a service (the service_name index label) and a team',
    { start: iso(ORG_END - 40 * DAY), end: iso(ORG_END), service: BUSY_REPOSITORY, team: 'tag-o11y' },
    1000,
  ],
  ["the dashboards' 356-day window", { start: iso(ORG_END - 356 * DAY), end: iso(ORG_END) }, 1000],
];

describeWithRealLoki('the real Loki and the imitation give the same answers', (run) => {
  let backends: Backends;
  let data: typeof DataHandler;
  let metrics: typeof MetricsHandler;
  let summary: typeof SummaryHandler;

  beforeAll(async () => {
    backends = await useBackends(run());
    ({ handler: data } = await import('../../functions/data'));
    ({ handler: metrics } = await import('../../functions/metrics'));
    ({ handler: summary } = await import('../../functions/metrics-summary'));
  });
  afterAll(async () => {
    console.log(timingReport('differential', backends.timings));
    await backends.close();
  });

  it.each(DATA_CASES)('POST /data: %s', async (_case, body, atLeast) => {
    const request = { method: 'POST', path: '/data', query: { no_cache: 'true' }, body };

    const real = await backends.call('real', data, request);
    const imitation = await backends.call('imitation', data, request);

    expect(real.statusCode).toBe(200);
    expect(imitation.statusCode).toBe(200);
    const records = (real.json as { records: DeploymentRecord[] }).records;
    expect(records.length).toBeGreaterThanOrEqual(atLeast);
    expect(real.json).toEqual(imitation.json);
  });

  describe.each(METRIC_CASES)('GET /metrics over %s', (_case, filters) => {
    it.each(METRICS.flatMap((metric) => INTERVALS.map((interval) => [metric, interval] as const)))(
      'metric=%s interval=%s',
      async (metric, interval) => {
        // Each backend fetches a period's events once; the other metrics of the period come from its cache.
        const request = { path: '/metrics', query: { ...filters, metric, interval } };

        const real = await backends.call('real', metrics, request);
        const imitation = await backends.call('imitation', metrics, request);

        expect(real.statusCode).toBe(200);
        expect(real.json).toEqual(imitation.json);
        expect((real.json as unknown[]).length).toBeGreaterThan(0);
      },
    );
  });

  // A summary reads its period and the one before: twice the Loki work of a /metrics period. Two cases.
  it.each([METRIC_CASES[0], METRIC_CASES[4]] as Array<[string, Record<string, string>]>)(
    'GET /metrics/summary over %s',
    async (_case, filters) => {
      const request = { path: '/metrics/summary', query: { ...filters, no_cache: 'true' } };

      const real = await backends.call('real', summary, request);
      const imitation = await backends.call('imitation', summary, request);

      expect(real.statusCode).toBe(200);
      expect(real.json).toEqual(imitation.json);
      expect(real.json).toMatchObject({ metrics: { deployment_frequency: { count: expect.any(Number) } } });
    },
  );
});
