/**
 * The dashboard's filters and the page URL's query string, both ways: the URL is the state, so a link
 * shows the same view. Pure (no DOM), so the browser suite uses the same rules to compute what to expect.
 */

import { bucketIndexOf, bucketsOf } from '../../lib/dora/buckets';
import { DAY_MS } from '../../lib/time';

export const PERIODS = ['7', '30', '90', '365'] as const;
export type Period = (typeof PERIODS)[number] | 'custom';
export const INTERVALS = ['auto', 'daily', 'weekly', 'monthly'] as const;
export type IntervalChoice = (typeof INTERVALS)[number];
export type Interval = Exclude<IntervalChoice, 'auto'>;

export interface Filters {
  period: Period;
  /** YYYY-MM-DD, both inclusive; only read when period is custom. */
  start: string;
  end: string;
  team: string;
  /** A service of GET /services (the events' service_name); '' for all. */
  service: string;
  repositories: string[];
  interval: IntervalChoice;
  /**
   * Author globs whose changes are left out, as `exclude_authors` of the API: null leaves the API's
   * default (EXCLUDE_AUTHORS), '' leaves nobody out.
   */
  excludeAuthors: string | null;
}

/** What the "Leave out bots" toggle asks for: GitHub Apps' logins and the usual dependency bots. */
export const BOT_AUTHORS = ['*[bot]', 'renovate*', 'dependabot*'] as const;

export const DEFAULT_PERIOD: Period = '30';
const ISO_DAY = /^\d{4}-\d{2}-\d{2}$/;

export function isoDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

function dayMs(day: string): number {
  return Date.parse(`${day}T00:00:00Z`);
}

function validDay(text: string | null): text is string {
  return text !== null && ISO_DAY.test(text) && !Number.isNaN(dayMs(text)) && isoDay(dayMs(text)) === text;
}

export function readFilters(search: string, today: string): Filters {
  const params = new URLSearchParams(search);
  const start = params.get('start');
  const end = params.get('end');
  const periodParam = params.get('period');
  const custom = validDay(start) && validDay(end) && start <= end;
  const period: Period = custom
    ? 'custom'
    : (PERIODS as readonly string[]).includes(periodParam ?? '')
      ? (periodParam as Period)
      : DEFAULT_PERIOD;
  const days = period === 'custom' ? 0 : Number(period);
  const interval = params.get('interval') ?? 'auto';
  return {
    period,
    start: custom ? start : isoDay(dayMs(today) - (days - 1) * DAY_MS),
    end: custom ? end : today,
    team: params.get('team') ?? '',
    service: params.get('service') ?? '',
    repositories: (params.get('repositories') ?? '')
      .split(',')
      .map((name) => name.trim())
      .filter((name) => name !== ''),
    interval: (INTERVALS as readonly string[]).includes(interval) ? (interval as IntervalChoice) : 'auto',
    excludeAuthors: params.get('exclude_authors'),
  };
}

/** The view over another period: N days ending today, or the current dates to edit. */
export function withPeriod(filters: Filters, period: Period, today: string): Filters {
  if (period === 'custom') return { ...filters, period };
  return { ...filters, period, start: isoDay(dayMs(today) - (Number(period) - 1) * DAY_MS), end: today };
}

/** The query string of a view; defaults are left out so links stay short. */
export function writeFilters(filters: Filters): string {
  const params = new URLSearchParams();
  if (filters.period === 'custom') {
    params.set('start', filters.start);
    params.set('end', filters.end);
  } else if (filters.period !== DEFAULT_PERIOD) {
    params.set('period', filters.period);
  }
  if (filters.team !== '') params.set('team', filters.team);
  if (filters.service !== '') params.set('service', filters.service);
  if (filters.repositories.length > 0) params.set('repositories', filters.repositories.join(','));
  if (filters.interval !== 'auto') params.set('interval', filters.interval);
  if (filters.excludeAuthors !== null) params.set('exclude_authors', filters.excludeAuthors);
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}

export function periodDays(filters: Filters): number {
  return Math.round((dayMs(filters.end) - dayMs(filters.start)) / DAY_MS) + 1;
}

/** Daily up to a month, weekly up to half a year, monthly beyond: 7 to 31 points. */
export function effectiveInterval(filters: Filters): Interval {
  if (filters.interval !== 'auto') return filters.interval;
  const days = periodDays(filters);
  if (days <= 31) return 'daily';
  if (days <= 183) return 'weekly';
  return 'monthly';
}

/**
 * `date` of the bucket still running at `now` (today, this week, this month), or null when the period
 * ended before it. Its values cover only the part elapsed so far, so the page marks it rather than
 * reading it like the finished buckets. The API's own bucket rules decide (one home for them).
 */
export function runningBucketDate(filters: Filters, now: number): string | null {
  const range = { start: dayMs(filters.start), end: dayMs(filters.end) + DAY_MS };
  const buckets = bucketsOf(range, effectiveInterval(filters));
  return buckets[bucketIndexOf(buckets, now)]?.date ?? null;
}

/** The query of /metrics/summary and /metrics for a view. */
export function metricsQuery(filters: Filters): Record<string, string | undefined> {
  return {
    start_date: filters.start,
    end_date: filters.end,
    team: filters.team === '' ? undefined : filters.team,
    service: filters.service === '' ? undefined : filters.service,
    repositories: filters.repositories.length === 0 ? undefined : filters.repositories.join(','),
    exclude_authors: filters.excludeAuthors ?? undefined,
  };
}

/** The body of POST /data for a view: the same days, the end exclusive. */
export function dataRequest(filters: Filters): {
  start: string;
  end: string;
  team?: string;
  service?: string;
  repositories?: string[];
} {
  return {
    start: `${filters.start}T00:00:00Z`,
    end: `${isoDay(dayMs(filters.end) + DAY_MS)}T00:00:00Z`,
    ...(filters.team === '' ? {} : { team: filters.team }),
    ...(filters.service === '' ? {} : { service: filters.service }),
    ...(filters.repositories.length === 0 ? {} : { repositories: filters.repositories }),
  };
}
