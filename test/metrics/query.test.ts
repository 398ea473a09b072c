import { BadRequestError } from '../../lib/errors';
import { withoutEmptyValues } from '../../lib/http/validation';
import { metricsQuerySchema, resolvePeriod } from '../../lib/metrics/query';

const DAY = 86_400_000;
const MAX = 400 * DAY;
const NOW = Date.parse('2026-11-28T04:00:00Z');

function fieldOf(action: () => unknown): string | undefined {
  try {
    action();
  } catch (error) {
    if (error instanceof BadRequestError) return error.fields?.[0]?.field;
    throw error;
  }
  return undefined;
}

describe('resolvePeriod', () => {
  it('defaults to the 90 days ending with today (UTC), today included', () => {
    expect(resolvePeriod({}, NOW, MAX)).toEqual({
      start: Date.parse('2026-08-31T00:00:00Z'),
      end: Date.parse('2026-11-29T00:00:00Z'),
    });
  });

  it('includes end_date and starts at start_date midnight UTC', () => {
    expect(resolvePeriod({ start_date: '2024-09-01', end_date: '2024-09-30' }, NOW, MAX)).toEqual({
      start: Date.parse('2024-09-01T00:00:00Z'),
      end: Date.parse('2024-10-01T00:00:00Z'),
    });
  });

  it('takes the 90 days up to end_date when only end_date is given', () => {
    const range = resolvePeriod({ end_date: '2024-09-30' }, NOW, MAX);

    expect(range.end - range.start).toBe(90 * DAY);
  });

  it('takes from/to as epoch milliseconds with to exclusive, and to defaults to now', () => {
    expect(resolvePeriod({ from: 1_000, to: 5_000 }, NOW, MAX)).toEqual({ start: 1_000, end: 5_000 });
    expect(resolvePeriod({ from: NOW - DAY }, NOW, MAX)).toEqual({ start: NOW - DAY, end: NOW });
  });

  it('accepts a period of exactly the maximum and refuses one day more, naming end_date', () => {
    expect(() =>
      resolvePeriod({ start_date: '2024-01-01', end_date: '2024-02-04' }, NOW, 35 * DAY),
    ).not.toThrow();
    expect(
      fieldOf(() => resolvePeriod({ start_date: '2024-01-01', end_date: '2024-02-05' }, NOW, 35 * DAY)),
    ).toBe('end_date');
  });

  it('accepts a one-day period and refuses end_date before start_date', () => {
    expect(resolvePeriod({ start_date: '2024-01-01', end_date: '2024-01-01' }, NOW, MAX)).toEqual({
      start: Date.parse('2024-01-01T00:00:00Z'),
      end: Date.parse('2024-01-02T00:00:00Z'),
    });
    expect(fieldOf(() => resolvePeriod({ start_date: '2024-01-02', end_date: '2024-01-01' }, NOW, MAX))).toBe(
      'end_date',
    );
  });

  it('names the given parameter when a defaulted end would come before it', () => {
    expect(fieldOf(() => resolvePeriod({ start_date: '2026-12-01' }, NOW, MAX))).toBe('start_date');
    expect(fieldOf(() => resolvePeriod({ from: NOW + DAY }, NOW, MAX))).toBe('from');
  });

  it('refuses dates mixed with epoch bounds, naming the epoch parameter', () => {
    expect(fieldOf(() => resolvePeriod({ end_date: '2024-01-01', to: 5_000 }, NOW, MAX))).toBe('to');
  });
});

describe('metrics query string', () => {
  it('splits repositories on commas and defaults the interval to daily', () => {
    const query = metricsQuerySchema.parse({ metric: 'rework_rate', repositories: 'api, web,,' });

    expect(query).toMatchObject({ interval: 'daily', repositories: ['api', 'web'] });
  });

  it('drops empty values before parsing', () => {
    expect(withoutEmptyValues({ team: '', metric: 'rework_rate', to: undefined })).toEqual({
      metric: 'rework_rate',
    });
  });
});
