import type { handler as DataHandler } from '../../functions/data';
import type { handler as MetricsHandler } from '../../functions/metrics';
import type { handler as SummaryHandler } from '../../functions/metrics-summary';
import { METRICS } from '../../lib/dora/metrics';
import type { DeploymentRecord } from '../../lib/dora/types';
import { type Backends, timingReport, useBackends } from './backends';
import { DATA_CASES, INTERVALS, METRIC_CASES, SUMMARY_CASES } from './cases';
import { describeWithRealLoki } from './real-loki';

/**
 * The same organisation answered over the real Loki and over the imitation must be the same answer,
 * record for record and value for value. Whatever the client asks of Loki (one query per kind or one
 * for all, a stream selector or a label filter), these compare what the handlers answer.
 */

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

  it.each(SUMMARY_CASES)('GET /metrics/summary over %s', async (_case, filters) => {
    const request = { path: '/metrics/summary', query: { ...filters, no_cache: 'true' } };

    const real = await backends.call('real', summary, request);
    const imitation = await backends.call('imitation', summary, request);

    expect(real.statusCode).toBe(200);
    expect(real.json).toEqual(imitation.json);
    expect(real.json).toMatchObject({ metrics: { deployment_frequency: { count: expect.any(Number) } } });
  });
});
