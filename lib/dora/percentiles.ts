/**
 * Percentiles by linear interpolation between closest ranks (Hyndman & Fan type 7: the default of
 * numpy, R and spreadsheet PERCENTILE.INC). The 50th percentile is the usual median: the middle
 * value, or the mean of the two middle values.
 */

/** `sorted` must be in ascending order; `fraction` in [0, 1]. Null for no value. */
export function percentile(sorted: readonly number[], fraction: number): number | null {
  if (sorted.length === 0) return null;
  const position = (sorted.length - 1) * fraction;
  const lower = Math.floor(position);
  const lowerValue = sorted[lower] as number;
  const upperValue = sorted[Math.min(lower + 1, sorted.length - 1)] as number;
  return lowerValue + (position - lower) * (upperValue - lowerValue);
}

export interface DurationPercentiles {
  p50: number | null;
  p75: number | null;
  p90: number | null;
}

/** p50/p75/p90 of unsorted values (the array is sorted in place). */
export function durationPercentiles(values: number[]): DurationPercentiles {
  values.sort((a, b) => a - b);
  return { p50: percentile(values, 0.5), p75: percentile(values, 0.75), p90: percentile(values, 0.9) };
}
