import { levelTable } from '../../lib/dora/levels';
import {
  dataRequest,
  effectiveInterval,
  metricsQuery,
  readFilters,
  withPeriod,
  writeFilters,
} from '../../web/src/filters';
import { duration, frequency, readingText, trendText } from '../../web/src/format';
import { levelBands } from '../../web/src/levels';
import type { MetricSummary } from '../../web/src/types';

/** The dashboard page's pure rules (web/src): its URL state, its wording of numbers, its level bands. */

const TODAY = '2026-11-30';

describe('the page URL', () => {
  it('defaults to the last 30 days, today included, every team, automatic interval', () => {
    expect(readFilters('', TODAY)).toEqual({
      period: '30',
      start: '2026-11-01',
      end: TODAY,
      team: '',
      service: '',
      repositories: [],
      interval: 'auto',
      excludeAuthors: null,
    });
  });

  it('keeps the bot choice in the URL: a glob list, or empty for nobody, or absent for the API default', () => {
    const on = { ...readFilters('', TODAY), excludeAuthors: '*[bot],renovate*' };
    const off = { ...readFilters('', TODAY), excludeAuthors: '' };

    expect(readFilters(writeFilters(on), TODAY).excludeAuthors).toBe('*[bot],renovate*');
    expect(writeFilters(off)).toBe('?exclude_authors=');
    expect(readFilters(writeFilters(off), TODAY).excludeAuthors).toBe('');
    expect(metricsQuery(off).exclude_authors).toBe('');
    expect(metricsQuery(readFilters('', TODAY)).exclude_authors).toBeUndefined();
  });

  it('reads back what it writes, leaving defaults out', () => {
    const filters = {
      ...readFilters('', TODAY),
      period: 'custom' as const,
      start: '2026-09-01',
      end: '2026-09-30',
      team: 'Platform Core',
      service: 'checkout-service',
      repositories: ['checkout-service', 'web'],
      interval: 'weekly' as const,
    };

    const search = writeFilters(filters);

    expect(search).toBe(
      '?start=2026-09-01&end=2026-09-30&team=Platform+Core&service=checkout-service&repositories=checkout-service%2Cweb&interval=weekly',
    );
    expect(readFilters(search, TODAY)).toEqual(filters);
    expect(writeFilters(readFilters('', TODAY))).toBe('');
  });

  it('ignores dates that do not exist or run backwards, and unknown periods and intervals', () => {
    expect(readFilters('?start=2026-02-30&end=2026-03-01', TODAY).period).toBe('30');
    expect(readFilters('?start=2026-03-02&end=2026-03-01', TODAY).period).toBe('30');
    expect(readFilters('?period=12&interval=hourly', TODAY)).toMatchObject({
      period: '30',
      interval: 'auto',
    });
  });

  it('moves to N days ending today when the period changes, keeping the other filters', () => {
    const filters = { ...readFilters('?team=Payments', TODAY) };

    expect(withPeriod(filters, '7', TODAY)).toMatchObject({
      start: '2026-11-24',
      end: TODAY,
      team: 'Payments',
    });
  });

  it('buckets daily up to a month, weekly up to half a year, monthly beyond', () => {
    expect(effectiveInterval(readFilters('?period=30', TODAY))).toBe('daily');
    expect(effectiveInterval(readFilters('?period=90', TODAY))).toBe('weekly');
    expect(effectiveInterval(readFilters('?period=365', TODAY))).toBe('monthly');
    expect(effectiveInterval(readFilters('?period=365&interval=daily', TODAY))).toBe('daily');
  });

  it('asks /data for the same days, the end exclusive', () => {
    expect(dataRequest(readFilters('?start=2026-09-01&end=2026-09-30&team=Payments', TODAY))).toEqual({
      start: '2026-09-01T00:00:00Z',
      end: '2026-10-01T00:00:00Z',
      team: 'Payments',
    });
  });
});

describe('numbers in words', () => {
  it('says deployments per day, per week or per month, whichever is at least one', () => {
    expect(frequency(14.6333)).toEqual({ figure: '14.6', unit: 'deployments per day' });
    expect(frequency(2 / 7)).toEqual({ figure: '2', unit: 'deployments per week' });
    expect(frequency(3 / 30)).toEqual({ figure: '3', unit: 'deployments per month' });
  });

  it('says minutes, hours or days', () => {
    expect(duration(45 * 60)).toEqual({ figure: '45', unit: 'minutes' });
    expect(duration(18_103)).toEqual({ figure: '5', unit: 'hours' });
    expect(duration(5 * 86_400)).toEqual({ figure: '5', unit: 'days' });
  });

  it('says rates in percent, and a missing value as such', () => {
    expect(readingText('change_failure_rate', 0.1145)).toBe('11.5 %');
    expect(readingText('lead_time_for_changes', null)).toBe('–');
  });

  it('says the trend with an arrow and in words, not only in colour', () => {
    const summary = {
      trend: 'down',
      change_ratio: -0.4112,
      improved: true,
      previous_value: 30_748,
    } as MetricSummary;

    expect(trendText('lead_time_for_changes', summary, 30)).toBe(
      '▼ 41 % from 8.5 hours in the previous 30 days, better',
    );
    expect(trendText('change_failure_rate', { ...summary, change_ratio: null, previous_value: 0 }, 30)).toBe(
      '▼ from 0 % in the previous 30 days, better',
    );
    expect(
      trendText(
        'deployment_frequency',
        { ...summary, trend: 'up', change_ratio: 0.004, previous_value: 14.3 },
        30,
      ),
    ).toBe('▲ 0.4 % from 14.3 deployments per day in the previous 30 days, better');
    expect(trendText('lead_time_for_changes', { ...summary, trend: null } as MetricSummary, 30)).toBe(
      'No data for the previous 30 days to compare with',
    );
  });
});

describe('level bands', () => {
  const { thresholds } = levelTable('dora-2024');

  it('draws the bands the API decides with, an inverted table included (DORA 2024 change failure rate)', () => {
    expect(levelBands(thresholds.change_failure_rate, 1)).toEqual([
      { from: 0, to: 0.05, level: 'elite' },
      { from: 0.05, to: 0.2, level: 'high' },
      { from: 0.2, to: 1, level: 'low' },
    ]);
  });

  it('draws higher-is-better bands for deployment frequency', () => {
    expect(levelBands(thresholds.deployment_frequency, 2).map((band) => band.level)).toEqual([
      'low',
      'medium',
      'high',
      'elite',
    ]);
  });

  it('draws nothing for a metric without bounds (rework rate in DORA 2024)', () => {
    expect(levelBands(thresholds.rework_rate, 1)).toEqual([]);
  });
});
