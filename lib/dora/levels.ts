import * as z from 'zod';
import {
  type Bound,
  type Comparison,
  type Level,
  levelOfBounds,
  type MetricBounds,
  RANKED_LEVELS,
} from './bounds';
import { METRICS, type MetricName } from './metrics';

/**
 * DORA performance levels: the level tables (presets, configured overrides) of lib/dora/bounds.ts's
 * first-bound-met-wins rule. A metric without bounds, or a null value, has no level.
 */

export { type Bound, type Comparison, LEVELS, type Level, type MetricBounds } from './bounds';

export type LevelThresholds = Partial<Record<MetricName, MetricBounds>>;

export const LEVEL_PRESETS = ['dora-2024', 'react-dora-charts'] as const;
export type LevelPreset = (typeof LEVEL_PRESETS)[number];

export interface LevelTable {
  preset: LevelPreset;
  /** Year of the DORA report the bounds come from; null for a preset that is not a DORA report. */
  reportYear: number | null;
  thresholds: LevelThresholds;
  /** Metrics whose bounds were changed by configuration (DORA_LEVEL_THRESHOLDS). */
  overridden: MetricName[];
}

const HOUR = 3600;
const DAY = 24 * HOUR;
const WEEK = 7 * DAY;
const MONTH = 30 * DAY;

const below = (value: number): Bound => ({ comparison: '<', value });
const atMost = (value: number): Bound => ({ comparison: '<=', value });
const above = (value: number): Bound => ({ comparison: '>', value });
const atLeast = (value: number): Bound => ({ comparison: '>=', value });

/**
 * DORA 2024 report clusters, as published (metrics.md). Change failure rate keeps the report's
 * inversion (medium <= 10 % is stricter than high <= 20 %), so no value reaches medium there; recovery
 * time gives high and medium the same bound (< 1 day). Deployment frequency: "on demand" (several a
 * day) is more than one a day; high is daily to weekly; medium weekly to monthly.
 * The 2024 report publishes no clusters for rework rate: it has no level unless configured.
 */
const DORA_2024: LevelThresholds = {
  deployment_frequency: { elite: above(1), high: atLeast(1 / 7), medium: atLeast(1 / 30) },
  lead_time_for_changes: { elite: below(DAY), high: atMost(WEEK), medium: atMost(MONTH) },
  change_failure_rate: { elite: atMost(0.05), high: atMost(0.2), medium: atMost(0.1) },
  time_to_restore_service: { elite: below(HOUR), high: below(DAY), medium: below(DAY) },
};

/**
 * react-dora-charts' defaults: hours below 24 / 168 / 720 for the gap between deployments, lead time
 * and recovery time; change failure rate below 5 % / 10 % / 45 %. A mean gap under g hours is a
 * frequency above 24/g deployments a day.
 */
const REACT_DORA_CHARTS: LevelThresholds = {
  deployment_frequency: { elite: above(24 / 24), high: above(24 / 168), medium: above(24 / 720) },
  lead_time_for_changes: { elite: below(24 * HOUR), high: below(168 * HOUR), medium: below(720 * HOUR) },
  change_failure_rate: { elite: below(0.05), high: below(0.1), medium: below(0.45) },
  time_to_restore_service: { elite: below(24 * HOUR), high: below(168 * HOUR), medium: below(720 * HOUR) },
};

const PRESET_TABLES: Record<LevelPreset, { reportYear: number | null; thresholds: LevelThresholds }> = {
  'dora-2024': { reportYear: 2024, thresholds: DORA_2024 },
  'react-dora-charts': { reportYear: null, thresholds: REACT_DORA_CHARTS },
};

const BOUND_TEXT = /^\s*(<=|>=|<|>)\s*(\d+(?:\.\d+)?(?:e[+-]?\d+)?)\s*$/i;

/** `"<86400"`, `"<=0.05"`, `">1"`, `">=0.142857"`. */
export function parseBound(text: string): Bound {
  const match = BOUND_TEXT.exec(text);
  if (!match) throw new Error(`"${text}" is not a bound like "<86400" or ">=0.5"`);
  return { comparison: match[1] as Comparison, value: Number(match[2]) };
}

const boundText = z.string().transform((text, ctx) => {
  try {
    return parseBound(text);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: (error as Error).message });
    return z.NEVER;
  }
});

/** `null` removes a preset's bound for that level. */
const metricBoundsOverride = z.strictObject({
  elite: boundText.nullable().optional(),
  high: boundText.nullable().optional(),
  medium: boundText.nullable().optional(),
});

/**
 * DORA_LEVEL_THRESHOLDS: JSON merged over the preset, per metric and level, e.g.
 * `{"change_failure_rate":{"medium":"<=0.3"},"rework_rate":{"elite":"<=0.02","high":"<=0.05"}}`.
 */
export const levelThresholdsOverrideSchema = z.partialRecord(z.enum(METRICS), metricBoundsOverride);
export type LevelThresholdsOverride = z.output<typeof levelThresholdsOverrideSchema>;

/** The preset's table with configured bounds merged over it. */
export function levelTable(preset: LevelPreset, override: LevelThresholdsOverride = {}): LevelTable {
  const { reportYear, thresholds: presetThresholds } = PRESET_TABLES[preset];
  const thresholds: LevelThresholds = { ...presetThresholds };
  const overridden: MetricName[] = [];
  for (const metric of METRICS) {
    const changes = override[metric];
    if (!changes) continue;
    const bounds: MetricBounds = { ...thresholds[metric] };
    for (const level of RANKED_LEVELS) {
      const change = changes[level];
      if (change === undefined) continue;
      if (change === null) delete bounds[level];
      else bounds[level] = change;
    }
    thresholds[metric] = bounds;
    overridden.push(metric);
  }
  return { preset, reportYear, thresholds, overridden };
}

/** The level of a metric value; null when the value is null or the metric has no bounds. */
export function levelOf(table: LevelTable, metric: MetricName, value: number | null): Level | null {
  const bounds = table.thresholds[metric];
  if (value === null || !bounds || Object.keys(bounds).length === 0) return null;
  return levelOfBounds(bounds, value);
}
