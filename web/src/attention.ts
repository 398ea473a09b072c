import type { RepositorySummary } from '../../lib/dora/per-repository';
import { LEVEL_TITLES, METRIC_TITLES } from './format';

/** "Low: change fail rate, 2 open failures": the worst level, where, and what is still broken. */
export function attentionText(row: RepositorySummary): string {
  const { worst_level, at_worst_level, open_failures } = row.attention;
  const open = open_failures > 0 ? `${open_failures} open failure${open_failures === 1 ? '' : 's'}` : '';
  if (worst_level === null) return open || 'No level (nothing deployed)';
  const where = at_worst_level.map((metric) => METRIC_TITLES[metric].toLowerCase()).join(', ');
  return [`${LEVEL_TITLES[worst_level]}: ${where}`, open].filter((part) => part !== '').join('; ');
}
