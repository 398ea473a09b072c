import { isoDay } from '../time';
import { type Level, type LevelPreset, type LevelTable, type LevelThresholds, levelOf } from './levels';
import { computeMetric, METRIC_UNITS, METRICS, type MetricName, type MetricPoint } from './metrics';
import type { MergeEvent, ProductionDeployment, TimeRange } from './types';
import {
  CATEGORIES,
  type MetricVocabulary,
  RECOVERY_ALIAS,
  type SummaryMetricName,
  VOCABULARY,
} from './vocabulary';

/**
 * The board view: the five metrics over a period, each with its DORA level and its trend against
 * the previous period of the same length.
 */

export type Trend = 'up' | 'down' | 'flat';

export interface MetricSummary extends Omit<MetricPoint, 'date'>, MetricVocabulary {
  unit: (typeof METRIC_UNITS)[MetricName];
  level: Level | null;
  previous_value: number | null;
  previous_count: number;
  /** Direction of the value from the previous period; null when either value is null. */
  trend: Trend | null;
  /** (value - previous_value) / previous_value; null when that is undefined. */
  change_ratio: number | null;
  /** Whether the change is an improvement (frequency up, the others down); null when flat or unknown. */
  improved: boolean | null;
}

export interface PeriodSummary {
  start: string;
  /** Exclusive. */
  end: string;
  start_date: string;
  /** Inclusive: the last day of the period. */
  end_date: string;
}

export interface Summary {
  period: PeriodSummary;
  previous_period: PeriodSummary;
  levels_source: LevelPreset;
  /** DORA report year of the levels; null for a preset that is not a DORA report. */
  levels_report_year: number | null;
  /** Metrics whose level bounds come from DORA_LEVEL_THRESHOLDS instead of the preset. */
  levels_overridden: MetricName[];
  /**
   * The bounds the levels were decided with (preset and overrides), so dashboards draw the same bands; also
   * under `failed_deployment_recovery_time`.
   */
  levels_thresholds: LevelThresholds & Partial<Record<typeof RECOVERY_ALIAS, LevelThresholds[MetricName]>>;
  /**
   * Every metric under the API's names (those of GET /metrics), and recovery time also under DORA's current
   * name `failed_deployment_recovery_time` (the same object).
   */
  metrics: Record<SummaryMetricName, MetricSummary>;
  /** DORA's throughput metrics: lead time, deployment frequency, failed deployment recovery time. */
  throughput: Record<'lead_time_for_changes' | 'deployment_frequency' | typeof RECOVERY_ALIAS, MetricSummary>;
  /** DORA's instability metrics: change fail rate, deployment rework rate. */
  instability: Record<'change_failure_rate' | 'rework_rate', MetricSummary>;
}

export interface PeriodData {
  deployments: readonly ProductionDeployment[];
  merges: readonly MergeEvent[];
  /** See MetricInput.deliverers. */
  deliverers?: readonly ProductionDeployment[];
  range: TimeRange;
}

const HIGHER_IS_BETTER: ReadonlySet<MetricName> = new Set(['deployment_frequency']);

/** Relative difference under which two values count as equal (float noise). */
const FLAT_TOLERANCE = 1e-9;

/** The period before `range`, of the same length. */
export function previousPeriod(range: TimeRange): TimeRange {
  return { start: range.start - (range.end - range.start), end: range.start };
}

function describePeriod(range: TimeRange): PeriodSummary {
  return {
    start: new Date(range.start).toISOString(),
    end: new Date(range.end).toISOString(),
    start_date: isoDay(range.start),
    end_date: isoDay(range.end - 1),
  };
}

function trendOf(value: number | null, previous: number | null): Trend | null {
  if (value === null || previous === null) return null;
  const scale = Math.max(Math.abs(value), Math.abs(previous));
  if (Math.abs(value - previous) <= FLAT_TOLERANCE * scale) return 'flat';
  return value > previous ? 'up' : 'down';
}

function wholePeriod(name: MetricName, period: PeriodData): MetricPoint {
  const [point] = computeMetric(name, { ...period, interval: 'all' });
  return point ?? { date: null, value: null, count: 0 };
}

export function summarizeMetric(
  name: MetricName,
  current: PeriodData,
  previous: PeriodData,
  levels: LevelTable,
): MetricSummary {
  const { date: _date, ...now } = wholePeriod(name, current);
  const before = wholePeriod(name, previous);
  const trend = trendOf(now.value, before.value);
  const changeRatio =
    now.value === null || before.value === null || before.value === 0
      ? null
      : (now.value - before.value) / before.value;
  const improved =
    trend === null || trend === 'flat' ? null : (trend === 'up') === HIGHER_IS_BETTER.has(name);
  return {
    ...now,
    ...VOCABULARY[name],
    unit: METRIC_UNITS[name],
    level: levelOf(levels, name, now.value),
    previous_value: before.value,
    previous_count: before.count,
    trend,
    change_ratio: changeRatio,
    improved,
  };
}

/** All five metrics of the current period, with levels and the trend against the previous period. */
export function summarize(input: { current: PeriodData; previous: PeriodData; levels: LevelTable }): Summary {
  const metrics = summaryMetrics((name) =>
    summarizeMetric(name, input.current, input.previous, input.levels),
  );
  const { time_to_restore_service: recoveryBounds } = input.levels.thresholds;
  return {
    period: describePeriod(input.current.range),
    previous_period: describePeriod(input.previous.range),
    levels_source: input.levels.preset,
    levels_report_year: input.levels.reportYear,
    levels_overridden: input.levels.overridden,
    levels_thresholds: {
      ...input.levels.thresholds,
      ...(recoveryBounds === undefined ? {} : { [RECOVERY_ALIAS]: recoveryBounds }),
    },
    ...metrics,
  };
}

/** The five metrics under the API's names, the recovery alias, and DORA's two categories. */
export function summaryMetrics(
  summarizeOne: (name: MetricName) => MetricSummary,
): Pick<Summary, 'metrics' | 'throughput' | 'instability'> {
  const byName = Object.fromEntries(METRICS.map((name) => [name, summarizeOne(name)])) as Record<
    MetricName,
    MetricSummary
  >;
  const metrics: Record<SummaryMetricName, MetricSummary> = {
    ...byName,
    [RECOVERY_ALIAS]: byName.time_to_restore_service,
  };
  const pick = (names: readonly SummaryMetricName[]) =>
    Object.fromEntries(names.map((name) => [name, metrics[name]]));
  return {
    metrics,
    throughput: pick(CATEGORIES.throughput) as Summary['throughput'],
    instability: pick(CATEGORIES.instability) as Summary['instability'],
  };
}
