/**
 * Numbers as people read them: deployments per day, week or month; minutes, hours or days; percent.
 * Pure, so the browser suite formats the API's numbers with the same rules and compares text.
 */
import { VOCABULARY } from '../../lib/dora/vocabulary';
import type { Level, MetricName, MetricSummary } from './types';

const HOUR = 3600;
const DAY = 24 * HOUR;

/** DORA's current names (lib/dora/vocabulary.ts), the same words as the summary's `dora_name`. */
export const METRIC_TITLES: Record<MetricName, string> = Object.fromEntries(
  Object.entries(VOCABULARY).map(([metric, vocabulary]) => [metric, vocabulary.dora_name]),
) as Record<MetricName, string>;

export const METRIC_HELP: Record<MetricName, string> = {
  deployment_frequency: 'Successful production deployments',
  lead_time_for_changes: 'Median time from merge to production',
  change_failure_rate: 'Deployments that failed or caused an incident',
  time_to_restore_service: 'Median time from failure to fix',
  rework_rate: 'Deployments that fixed a failure',
};

export const LEVEL_TITLES: Record<Level, string> = {
  elite: 'Elite',
  high: 'High',
  medium: 'Medium',
  low: 'Low',
};

function number(value: number, digits = 1): string {
  return value.toLocaleString('en-GB', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

export interface Reading {
  /** The figure, e.g. "14.6". */
  figure: string;
  /** Its unit in words, e.g. "deployments per day". */
  unit: string;
}

/** Deployments a day as per day, per week or per month, whichever reads as at least one. */
export function frequency(perDay: number): Reading {
  if (perDay >= 1 || perDay === 0) return { figure: number(perDay), unit: 'deployments per day' };
  if (perDay * 7 >= 1) return { figure: number(perDay * 7), unit: 'deployments per week' };
  return { figure: number(perDay * 30), unit: 'deployments per month' };
}

export function duration(seconds: number): Reading {
  if (seconds < HOUR) return { figure: number(seconds / 60, 0), unit: 'minutes' };
  if (seconds < 2 * DAY) return { figure: number(seconds / HOUR), unit: 'hours' };
  return { figure: number(seconds / DAY), unit: 'days' };
}

export function percent(ratio: number): Reading {
  return { figure: number(ratio * 100), unit: '%' };
}

export function reading(metric: MetricName, value: number | null): Reading {
  if (value === null) return { figure: '–', unit: 'no data in this period' };
  if (metric === 'deployment_frequency') return frequency(value);
  if (metric === 'lead_time_for_changes' || metric === 'time_to_restore_service') return duration(value);
  return percent(value);
}

export function readingText(metric: MetricName, value: number | null): string {
  const { figure, unit } = reading(metric, value);
  if (value === null) return figure;
  return unit === '%' ? `${figure} %` : `${figure} ${unit}`;
}

/**
 * "▲ 12 % from 4.1 hours in the previous 30 days, better": the direction in a symbol and in words (not
 * colour alone), and what it is compared with, so a jump from almost nothing reads as such.
 */
export function trendText(metric: MetricName, summary: MetricSummary, days: number): string {
  if (summary.trend === null) return `No data for the previous ${days} days to compare with`;
  const before = `${readingText(metric, summary.previous_value)} in the previous ${days} days`;
  if (summary.trend === 'flat') return `Unchanged from ${before}`;
  const arrow = summary.trend === 'up' ? '▲' : '▼';
  const percentChange = summary.change_ratio === null ? null : Math.abs(summary.change_ratio) * 100;
  // Small changes keep a decimal, so a real change never reads as "0 %".
  const change = percentChange === null ? '' : ` ${number(percentChange, percentChange < 10 ? 1 : 0)} %`;
  const verdict = summary.improved === null ? '' : summary.improved ? ', better' : ', worse';
  return `${arrow}${change} from ${before}${verdict}`;
}

/** Chart values: one fixed unit per chart, so the axis reads in it. */
export const CHART_UNITS: Record<MetricName, { unit: string; scale: (value: number) => number }> = {
  deployment_frequency: { unit: 'deployments per day', scale: (value) => value },
  lead_time_for_changes: { unit: 'hours', scale: (value) => value / HOUR },
  change_failure_rate: { unit: '%', scale: (value) => value * 100 },
  time_to_restore_service: { unit: 'hours', scale: (value) => value / HOUR },
  rework_rate: { unit: '%', scale: (value) => value * 100 },
};

export function chartValueText(metric: MetricName, value: number | null): string {
  if (value === null) return '–';
  const { unit, scale } = CHART_UNITS[metric];
  return `${number(scale(value), 2)}${unit === '%' ? ' %' : ` ${unit}`}`;
}

/** Times in UTC like the API's buckets (the column headers say so), to the minute: 2026-11-30 09:41. */
export function dateTime(iso: string | null): string {
  if (iso === null) return '';
  return new Date(iso).toISOString().slice(0, 16).replace('T', ' ');
}

export function shortDuration(seconds: number | null): string {
  if (seconds === null) return '';
  const { figure, unit } = duration(seconds);
  return `${figure} ${unit === 'minutes' ? 'min' : unit === 'hours' ? 'h' : 'd'}`;
}

/** How the running bucket (see runningBucketDate) is labelled wherever a bucket is named. */
export const SO_FAR = '(so far)';
