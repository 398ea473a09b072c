import { getConfig } from '../../lib/config';

import { METRICS } from '../../lib/dora/metrics';
import { generateSample } from '../../lib/sample/generator';
import { isoDay } from '../../lib/time';
import { useMetricsRoutes } from '../helpers/environment';
import { invoke } from '../helpers/lambda';
import { answersReadingALookaroundFurtherBack, daysAsked } from '../helpers/lookaround';

/**
 * The look-around before a period is read once: `/metrics` asks for the records of its period and of
 * the look-around before it, and reads the events from the look-around's start, not a look-around
 * before that. Answers must not depend on the extra days the earlier client read.
 */

const DAY = 86_400_000;
const END = Date.UTC(2026, 10, 27);
const sample = generateSample({ seed: 11, end: END, days: 125, repositories: 5, teams: 2 });

describe('what /metrics, /metrics/summary and /data ask of Loki', () => {
  const routes = useMetricsRoutes(sample.entries, { LOOKAROUND_DAYS: '' });
  beforeEach(() => {
    routes.loki.requests.length = 0;
  });

  it("reads a year's summary from the look-around before the previous year to today, each day once", async () => {
    // Arrange: the year ending today and the year before it, LOOKAROUND_DAYS at its default.
    const lookaroundDays = getConfig().lookaroundMs / DAY;
    const today = Math.floor(Date.now() / DAY) * DAY;
    const start = today - 364 * DAY;

    // Act
    const response = await invoke(routes.summary, {
      path: '/metrics/summary',
      query: { start_date: isoDay(start), end_date: isoDay(today), no_cache: 'true' },
    });

    // Assert: 365 + 365 days of periods, the look-around before them; nothing after today.
    expect(response.statusCode).toBe(200);
    const asked = daysAsked(routes.loki.requests);
    expect(lookaroundDays).toBe(30);
    expect(asked.first).toBe(start - 365 * DAY - lookaroundDays * DAY);
    expect(asked.days).toBe(2 * 365 + lookaroundDays);
    expect(asked.days).toBe(760);
    expect(asked.askedTwice).toBe(0);
  });

  it('reads a quarter of /metrics from the look-around before it, and a 30-day /data window the same way', async () => {
    const lookaroundDays = getConfig().lookaroundMs / DAY;
    const today = Math.floor(Date.now() / DAY) * DAY;

    const quarter = await invoke(routes.metrics, {
      path: '/metrics',
      query: {
        metric: 'lead_time_for_changes',
        interval: 'weekly',
        start_date: isoDay(today - 89 * DAY),
        end_date: isoDay(today),
        no_cache: 'true',
      },
    });
    const quarterAsked = daysAsked(routes.loki.requests);
    routes.loki.requests.length = 0;
    const window = await invoke(routes.data, {
      method: 'POST',
      path: '/data',
      query: { no_cache: 'true' },
      body: { start: new Date(today - 29 * DAY).toISOString(), end: new Date(today + DAY).toISOString() },
    });
    const windowAsked = daysAsked(routes.loki.requests);

    expect(quarter.statusCode).toBe(200);
    expect(quarterAsked.days).toBe(90 + lookaroundDays);
    expect(window.statusCode).toBe(200);
    expect(windowAsked.days).toBe(30 + lookaroundDays);
  });
});

describe.each([
  ['the default look-around (30 days)', ''],
  ['a 10-day look-around, its edge inside the data', '10'],
  ['a 3-day look-around', '3'],
])('answers over generated events with %s', (_case, lookaroundDays) => {
  const routes = useMetricsRoutes(sample.entries, { LOOKAROUND_DAYS: lookaroundDays });

  const PERIODS = [
    ['the last 30 days', { start_date: '2026-10-28', end_date: '2026-11-26' }],
    ['40 days from mid-data', { start_date: '2026-09-15', end_date: '2026-10-24' }],
    [
      'two repositories over 20 days',
      { start_date: '2026-10-01', end_date: '2026-10-20', repositories: 'payments-api,web-storefront' },
    ],
  ] as const;

  it.each(PERIODS)(
    'GET /metrics over %s gives every metric and interval as reading a look-around further back did',
    async (_period, dates) => {
      for (const metric of METRICS) {
        for (const interval of ['daily', 'weekly', 'all']) {
          // no_cache: the second call must compute its answer again, not get the first one's.
          const query = { ...dates, metric, interval, no_cache: 'true' };

          const { now, before } = await answersReadingALookaroundFurtherBack(() =>
            invoke(routes.metrics, { path: '/metrics', query }),
          );

          expect(now.statusCode).toBe(200);
          expect(now.json).toEqual(before.json);
        }
      }
    },
  );

  it.each(PERIODS)(
    'GET /metrics/summary over %s is the summary reading further back gave',
    async (_p, dates) => {
      const { now, before } = await answersReadingALookaroundFurtherBack(() =>
        invoke(routes.summary, { path: '/metrics/summary', query: { ...dates, no_cache: 'true' } }),
      );

      expect(now.statusCode).toBe(200);
      expect(now.json).toEqual(before.json);
      expect(now.json).toMatchObject({ metrics: { deployment_frequency: { count: expect.any(Number) } } });
    },
  );
});
