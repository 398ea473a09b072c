import type { handler as MetricsHandler } from '../../functions/metrics';
import type { handler as SummaryHandler } from '../../functions/metrics-summary';
import { METRICS } from '../../lib/dora/metrics';
import { answersReadingALookaroundFurtherBack } from '../helpers/lookaround';
import { type Backends, timingReport, useBackends } from './backends';
import { BUSY_REPOSITORY } from './organisation';
import { describeWithRealLoki } from './real-loki';

/**
 * `/metrics` reads from the start of the look-around before its period, no longer a look-around before
 * that (the look-around was applied twice). On the real Loki's test organisation (45 days to 2026-11-26)
 * the answers must be those the client reading further back gave, for periods whose look-around starts
 * inside the organisation's days, where the days no longer read held events.
 */

const INTERVALS = ['daily', 'weekly', 'all'] as const;

const CASES: Array<[string, Record<string, string>, Record<string, string>]> = [
  [
    'the organisation, the last 10 days, 30-day look-around',
    {},
    { start_date: '2026-11-17', end_date: '2026-11-26' },
  ],
  [
    'the organisation, 20 days, 10-day look-around',
    { LOOKAROUND_DAYS: '10' },
    { start_date: '2026-11-07', end_date: '2026-11-26' },
  ],
  [
    'two repositories, one busy, 15 days, 10-day look-around',
    { LOOKAROUND_DAYS: '10' },
    { start_date: '2026-11-12', end_date: '2026-11-26', repositories: `${BUSY_REPOSITORY},payments-api` },
  ],
  [
    'the team owning the repository without team_name, 12 days, 7-day look-around',
    { LOOKAROUND_DAYS: '7' },
    { start_date: '2026-11-15', end_date: '2026-11-26', team: 'tag-o11y' },
  ],
];

describeWithRealLoki('reading the look-around once gives the answers reading it twice gave', (run) => {
  describe.each(CASES)('%s', (_case, env, period) => {
    let backends: Backends;
    let metrics: typeof MetricsHandler;
    let summary: typeof SummaryHandler;

    beforeAll(async () => {
      backends = await useBackends(run(), env);
      ({ handler: metrics } = await import('../../functions/metrics'));
      ({ handler: summary } = await import('../../functions/metrics-summary'));
    });
    afterAll(async () => {
      console.log(timingReport('look-around', backends.timings));
      await backends.close();
    });

    it('answers every metric and interval of GET /metrics as before', async () => {
      for (const metric of METRICS) {
        for (const interval of INTERVALS) {
          const request = { path: '/metrics', query: { ...period, metric, interval } };

          const { now, before } = await answersReadingALookaroundFurtherBack(() =>
            backends.call('real', metrics, request),
          );

          expect(now.statusCode).toBe(200);
          expect(now.json).toEqual(before.json);
        }
      }
    });

    it('answers GET /metrics/summary as before', async () => {
      const request = { path: '/metrics/summary', query: period };

      const { now, before } = await answersReadingALookaroundFurtherBack(() =>
        backends.call('real', summary, request),
      );

      expect(now.statusCode).toBe(200);
      expect(now.json).toEqual(before.json);
      expect(now.json).toMatchObject({ metrics: { deployment_frequency: { count: expect.any(Number) } } });
    });
  });
});
