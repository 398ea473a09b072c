import { generateSample } from '../../lib/sample/generator';
import { DAY_MS, isoDay } from '../../lib/time';
import { useMetricsRoutes } from '../helpers/environment';
import { invoke } from '../helpers/lambda';

/**
 * `GET /metrics` and `GET /metrics/summary` keep their computed answers as long as the data cache keeps
 * its own (DATA_CACHE_TTL_SECONDS): a summary's two periods may hold more events than that cache keeps,
 * and its warm answer must not read them again.
 */

const today = Math.floor(Date.now() / DAY_MS) * DAY_MS;
const sample = generateSample({ seed: 5, end: today + DAY_MS, days: 120, repositories: 4, teams: 2 });
const period = { start_date: isoDay(today - 59 * DAY_MS), end_date: isoDay(today) };

describe('computed answers of /metrics and /metrics/summary', () => {
  const routes = useMetricsRoutes(sample.entries);

  it('answers the same summary again from memory, asking Loki nothing and saying so', async () => {
    // Arrange
    const first = await invoke(routes.summary, { path: '/metrics/summary', query: { ...period } });
    const asked = routes.loki.requests.length;

    // Act
    const second = await invoke(routes.summary, { path: '/metrics/summary', query: { ...period } });

    // Assert
    expect(first.statusCode).toBe(200);
    expect(first.headers['X-Cache']).toBe('miss');
    expect(first.headers['X-Rollups']).toMatch(/^memory=\d+ store=off loki=\d+ open=1$/);
    expect(second.statusCode).toBe(200);
    expect(second.headers['X-Cache']).toBe('hit');
    // A kept answer read no day: it says nothing about where days came from.
    expect(second.headers['X-Rollups']).toBeUndefined();
    expect(routes.loki.requests.length).toBe(asked);
    expect(second.body).toBe(first.body);
  });

  it('computes the answer again with no_cache, reading the day not closed yet from Loki', async () => {
    // Arrange
    await invoke(routes.metrics, {
      path: '/metrics',
      query: { ...period, metric: 'deployment_frequency', interval: 'weekly' },
    });
    const asked = routes.loki.requests.length;

    // Act
    const again = await invoke(routes.metrics, {
      path: '/metrics',
      query: { ...period, metric: 'deployment_frequency', interval: 'weekly', no_cache: 'true' },
    });

    // Assert
    expect(again.statusCode).toBe(200);
    expect(again.headers['X-Cache']).toBe('miss');
    expect(again.headers['X-Rollups']).toMatch(/open=1$/);
    expect(routes.loki.requests.length).toBeGreaterThan(asked);
  });

  it('keeps answers apart by everything the request asks', async () => {
    // Arrange
    const weekly = await invoke(routes.metrics, {
      path: '/metrics',
      query: { ...period, metric: 'lead_time_for_changes', interval: 'weekly' },
    });

    // Act
    const otherMetric = await invoke(routes.metrics, {
      path: '/metrics',
      query: { ...period, metric: 'change_failure_rate', interval: 'weekly' },
    });
    const otherInterval = await invoke(routes.metrics, {
      path: '/metrics',
      query: { ...period, metric: 'lead_time_for_changes', interval: 'all' },
    });
    const withoutAuthors = await invoke(routes.summary, {
      path: '/metrics/summary',
      query: { ...period, exclude_authors: 'nobody-here' },
    });

    // Assert
    expect(weekly.statusCode).toBe(200);
    for (const answer of [otherMetric, otherInterval, withoutAuthors]) expect(answer.statusCode).toBe(200);
    expect(JSON.parse(otherMetric.body)[0]).toHaveProperty('failed');
    expect(JSON.parse(weekly.body)[0]).not.toHaveProperty('failed');
    expect(JSON.parse(otherInterval.body)).toHaveLength(1);
    expect(JSON.parse(withoutAuthors.body).excluded_authors).toEqual(['nobody-here']);
  });
});
