import { levelOf, levelTable, levelThresholdsOverrideSchema, parseBound } from '../../lib/dora/levels';
import { previousPeriod, summarize } from '../../lib/dora/summary';
import { at, DAY_MS, deployment, deploymentOf, HOUR_S, merged } from '../metrics/builders';

const HOUR = HOUR_S;
const DAY = 24 * HOUR;

describe('DORA 2024 levels', () => {
  const table = levelTable('dora-2024');

  it.each([
    [HOUR, 'elite'],
    [DAY, 'high'],
    [7 * DAY, 'high'],
    [7 * DAY + 1, 'medium'],
    [30 * DAY, 'medium'],
    [90 * DAY, 'low'],
  ])('ranks a lead time of %d s as %s', (seconds, level) => {
    expect(levelOf(table, 'lead_time_for_changes', seconds)).toBe(level);
  });

  it.each([
    [3, 'elite'],
    [1, 'high'],
    [1 / 7, 'high'],
    [0.1, 'medium'],
    [1 / 30, 'medium'],
    [0.01, 'low'],
  ])('ranks %d deployments a day as %s', (perDay, level) => {
    expect(levelOf(table, 'deployment_frequency', perDay)).toBe(level);
  });

  it.each([
    [0.05, 'elite'],
    [0.08, 'high'],
    [0.2, 'high'],
    [0.3, 'low'],
  ])(
    'ranks a change failure rate of %d as %s (the published medium bound is never reached)',
    (rate, level) => {
      expect(levelOf(table, 'change_failure_rate', rate)).toBe(level);
    },
  );

  it.each([
    [1800, 'elite'],
    [2 * HOUR, 'high'],
    [3 * DAY, 'low'],
  ])('ranks a recovery time of %d s as %s', (seconds, level) => {
    expect(levelOf(table, 'time_to_restore_service', seconds)).toBe(level);
  });

  it('gives no level to rework rate (the report has no clusters for it) nor to a missing value', () => {
    expect(levelOf(table, 'rework_rate', 0.01)).toBeNull();
    expect(levelOf(table, 'lead_time_for_changes', null)).toBeNull();
  });

  it('says which report the levels come from', () => {
    expect(table).toMatchObject({ preset: 'dora-2024', reportYear: 2024, overridden: [] });
  });
});

describe('react-dora-charts levels', () => {
  const table = levelTable('react-dora-charts');

  it('ranks change failure rate below 5, 10 and 45 percent', () => {
    expect(levelOf(table, 'change_failure_rate', 0.04)).toBe('elite');
    expect(levelOf(table, 'change_failure_rate', 0.07)).toBe('high');
    expect(levelOf(table, 'change_failure_rate', 0.3)).toBe('medium');
    expect(levelOf(table, 'change_failure_rate', 0.45)).toBe('low');
  });

  it('ranks frequency by the mean gap between deployments (below 24 hours is elite)', () => {
    expect(levelOf(table, 'deployment_frequency', 2)).toBe('elite');
    expect(levelOf(table, 'deployment_frequency', 1)).toBe('high'); // a 24-hour gap
    expect(levelOf(table, 'deployment_frequency', 0.05)).toBe('medium'); // a 20-day gap
    expect(levelOf(table, 'deployment_frequency', 0.02)).toBe('low'); // a 50-day gap
  });

  it('has no report year', () => {
    expect(table.reportYear).toBeNull();
  });
});

describe('configured thresholds', () => {
  it('merge over the preset per metric and level, and a null removes a bound', () => {
    const override = levelThresholdsOverrideSchema.parse({
      change_failure_rate: { medium: '<=0.3' },
      rework_rate: { elite: '<=0.02', high: '<=0.05' },
      time_to_restore_service: { medium: null },
    });

    const table = levelTable('dora-2024', override);

    expect(levelOf(table, 'change_failure_rate', 0.25)).toBe('medium');
    expect(levelOf(table, 'change_failure_rate', 0.04)).toBe('elite');
    expect(levelOf(table, 'rework_rate', 0.04)).toBe('high');
    expect(levelOf(table, 'rework_rate', 0.1)).toBe('low');
    expect(table.thresholds.time_to_restore_service).not.toHaveProperty('medium');
    expect(table.overridden).toEqual(['change_failure_rate', 'time_to_restore_service', 'rework_rate']);
  });

  it('reject a bound without a comparison, an unknown metric and an unknown level', () => {
    expect(levelThresholdsOverrideSchema.safeParse({ change_failure_rate: { elite: '0.05' } }).success).toBe(
      false,
    );
    expect(levelThresholdsOverrideSchema.safeParse({ mttr: { elite: '<1' } }).success).toBe(false);
    expect(levelThresholdsOverrideSchema.safeParse({ rework_rate: { low: '<1' } }).success).toBe(false);
  });

  it('read comparisons and numbers in scientific notation', () => {
    expect(parseBound('>= 1.5e-1')).toEqual({ comparison: '>=', value: 0.15 });
    expect(() => parseBound('=1')).toThrow(/not a bound/);
  });
});

describe('summarize', () => {
  const current = { start: at('2024-09-08T00:00'), end: at('2024-09-15T00:00') };
  const previous = previousPeriod(current);

  it('takes the previous period of the same length', () => {
    expect(previous).toEqual({ start: at('2024-09-01T00:00'), end: at('2024-09-08T00:00') });
  });

  it('gives each metric its value, level and trend against the previous period', () => {
    const pr = merged({ sha: 'a', mergedAt: at('2024-09-09T08:00') });
    const deployments = [
      // Previous week: 7 deployments, one failed and fixed by the next 2 hours later.
      ...Array.from({ length: 7 }, (_, day) =>
        deployment({
          createdAt: at('2024-09-01T10:00') + day * DAY_MS,
          ...(day === 2
            ? { success: false, failedAt: at('2024-09-03T10:00'), fixedAt: at('2024-09-03T12:00') }
            : {}),
          ...(day === 3 ? { fixesFailure: true } : {}),
        }),
      ),
      // This week: 14 deployments, none failed; one delivers a pull request after 4 hours.
      ...Array.from({ length: 14 }, (_, index) =>
        deployment({ createdAt: at('2024-09-08T01:00') + index * 12 * 3_600_000 }),
      ),
      deploymentOf(pr, at('2024-09-09T12:00')),
    ];
    const levels = levelTable('dora-2024');

    const summary = summarize({
      current: { deployments, merges: [pr], range: current },
      previous: { deployments, merges: [pr], range: previous },
      levels,
    });

    expect(summary.period).toEqual({
      start: '2024-09-08T00:00:00.000Z',
      end: '2024-09-15T00:00:00.000Z',
      start_date: '2024-09-08',
      end_date: '2024-09-14',
    });
    expect(summary.previous_period).toMatchObject({ start_date: '2024-09-01', end_date: '2024-09-07' });
    expect(summary).toMatchObject({
      levels_source: 'dora-2024',
      levels_report_year: 2024,
      levels_overridden: [],
      levels_thresholds: levels.thresholds,
    });
    expect(summary.metrics.deployment_frequency).toMatchObject({
      value: 15 / 7,
      unit: 'deployments/day',
      count: 15,
      level: 'elite',
      previous_value: 6 / 7,
      previous_count: 6,
      trend: 'up',
      change_ratio: expect.closeTo(1.5, 10),
      improved: true,
    });
    expect(summary.metrics.change_failure_rate).toMatchObject({
      value: 0,
      level: 'elite',
      previous_value: 1 / 7,
      trend: 'down',
      change_ratio: -1,
      improved: true,
    });
    expect(summary.metrics.time_to_restore_service).toMatchObject({
      value: null,
      count: 0,
      level: null,
      previous_value: 2 * HOUR,
      trend: null,
      change_ratio: null,
      improved: null,
    });
    expect(summary.metrics.lead_time_for_changes).toMatchObject({
      value: 4 * HOUR,
      unit: 'seconds',
      level: 'elite',
      previous_value: null,
      trend: null,
    });
    expect(summary.metrics.rework_rate).toMatchObject({
      value: 0,
      previous_value: 1 / 7,
      level: null,
      trend: 'down',
    });
  });

  it('calls equal values flat and leaves improvement unknown', () => {
    const deployments = [
      deployment({ createdAt: at('2024-09-02T10:00') }),
      deployment({ createdAt: at('2024-09-09T10:00') }),
    ];

    const summary = summarize({
      current: { deployments, merges: [], range: current },
      previous: { deployments, merges: [], range: previous },
      levels: levelTable('dora-2024'),
    });

    expect(summary.metrics.deployment_frequency).toMatchObject({
      trend: 'flat',
      change_ratio: 0,
      improved: null,
    });
  });
});
