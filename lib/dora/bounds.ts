/**
 * DORA levels from bounds: per metric, the bound a value must meet for `elite`, `high` and `medium`;
 * levels are tried in that order and the first bound met wins; a value meeting none is `low` (the
 * lowest cluster, however far beyond its published range). Units are those of the metric values:
 * seconds, deployments per day, ratios 0..1.
 *
 * No dependencies: the dashboard page (web/) bundles this file to draw the bands the API decides with.
 */

export const LEVELS = ['elite', 'high', 'medium', 'low'] as const;
export type Level = (typeof LEVELS)[number];
export type RankedLevel = Exclude<Level, 'low'>;
export const RANKED_LEVELS: readonly RankedLevel[] = ['elite', 'high', 'medium'];

export type Comparison = '<' | '<=' | '>' | '>=';
export interface Bound {
  comparison: Comparison;
  value: number;
}

export type MetricBounds = Partial<Record<RankedLevel, Bound>>;

function meets(value: number, bound: Bound): boolean {
  switch (bound.comparison) {
    case '<':
      return value < bound.value;
    case '<=':
      return value <= bound.value;
    case '>':
      return value > bound.value;
    case '>=':
      return value >= bound.value;
  }
}

/** The level of a value under one metric's bounds. */
export function levelOfBounds(bounds: MetricBounds, value: number): Level {
  for (const level of RANKED_LEVELS) {
    const bound = bounds[level];
    if (bound && meets(value, bound)) return level;
  }
  return 'low';
}
