import { levelOfBounds } from '../../lib/dora/bounds';
import type { Level, MetricBounds } from './types';

/**
 * The level bands of a chart, from the bounds /metrics/summary says it used (levels_thresholds), by the
 * API's own rule (lib/dora/bounds.ts) applied to each stretch between two bounds, so an inverted table
 * (DORA 2024's change failure rate) still draws what the API decides.
 */

export interface Band {
  from: number;
  to: number;
  level: Level;
}

/** Bands covering 0..top (in the metric's own unit), neighbours of the same level merged. */
export function levelBands(bounds: MetricBounds | undefined, top: number): Band[] {
  if (!bounds || Object.keys(bounds).length === 0 || !(top > 0)) return [];
  const edges = [
    0,
    ...Object.values(bounds)
      .map((bound) => bound.value)
      .filter((value) => value > 0 && value < top),
    top,
  ].sort((a, b) => a - b);
  const bands: Band[] = [];
  for (let i = 0; i + 1 < edges.length; i += 1) {
    const from = edges[i] as number;
    const to = edges[i + 1] as number;
    if (to <= from) continue;
    const level = levelOfBounds(bounds, (from + to) / 2);
    const last = bands[bands.length - 1];
    if (last && last.level === level) last.to = to;
    else bands.push({ from, to, level });
  }
  return bands;
}
