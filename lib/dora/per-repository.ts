import { compareText } from './collections';
import { LEVELS, type Level } from './levels';
import { METRICS, type MetricName } from './metrics';
import type { MetricSummary, Summary } from './summary';
import type { MergeEvent, ProductionDeployment } from './types';
import type { MetricVocabulary, SummaryMetricName } from './vocabulary';

/**
 * The summary split per repository (`GET /metrics/summary?group_by=repository`): DORA means its metrics
 * per application or service, and a team's blended numbers hide the one that needs attention. Pure, and
 * computed from the events the team view loaded (no other read).
 */

/** A metric of one repository: the summary's fields without the vocabulary the whole answer already gives. */
export type RepositoryMetricSummary = Omit<MetricSummary, keyof MetricVocabulary>;

export interface Attention {
  /** The worst level of the repository's metrics; null when none has a level (nothing deployed). */
  worst_level: Level | null;
  /** The metrics at that level, in the order of GET /metrics's names. */
  at_worst_level: MetricName[];
  /** Failures of the period not recovered by its end (failed deployment recovery time's `open`). */
  open_failures: number;
}

export interface RepositorySummary {
  repository: string;
  /** The team of its deployments (the first that names one); null when none does. */
  team: string | null;
  attention: Attention;
  /** Pull requests of the repository merged in the period that exclude_authors left out. */
  excluded_changes: number;
  metrics: Record<SummaryMetricName, RepositoryMetricSummary>;
}

export interface RepositoryEvents {
  deployments: ProductionDeployment[];
  merges: MergeEvent[];
}

/** The loaded events by repository (deployments of the look-around included), repositories in name order. */
export function splitByRepository(loaded: {
  deployments: readonly ProductionDeployment[];
  merges: readonly MergeEvent[];
}): Map<string, RepositoryEvents> {
  const parts = new Map<string, RepositoryEvents>();
  const partOf = (repository: string) => {
    let part = parts.get(repository);
    if (part === undefined) {
      part = { deployments: [], merges: [] };
      parts.set(repository, part);
    }
    return part;
  };
  for (const deployment of loaded.deployments) partOf(deployment.repository).deployments.push(deployment);
  for (const merge of loaded.merges) partOf(merge.repository).merges.push(merge);
  return new Map([...parts].sort(([a], [b]) => compareText(a, b)));
}

const VOCABULARY_KEYS: ReadonlySet<string> = new Set([
  'dora_name',
  'category',
  'definition',
  'definition_url',
]);

function withoutVocabulary(metric: MetricSummary): RepositoryMetricSummary {
  return Object.fromEntries(
    Object.entries(metric).filter(([key]) => !VOCABULARY_KEYS.has(key)),
  ) as RepositoryMetricSummary;
}

/** Level rank for sorting: low first, elite last, no level after every level. */
const LEVEL_RANK = new Map<Level, number>(LEVELS.map((level, index) => [level, LEVELS.length - 1 - index]));

function attentionOf(metrics: Summary['metrics']): Attention {
  let worst: Level | null = null;
  for (const name of METRICS) {
    const level = metrics[name].level;
    if (level !== null && (worst === null || (LEVEL_RANK.get(level) ?? 0) < (LEVEL_RANK.get(worst) ?? 0)))
      worst = level;
  }
  return {
    worst_level: worst,
    at_worst_level: worst === null ? [] : METRICS.filter((name) => metrics[name].level === worst),
    open_failures: metrics.time_to_restore_service.open ?? 0,
  };
}

/**
 * What needs attention first: the worst level (low, medium, high, elite, then no level at all); then more
 * metrics at that level; then more failures still open; then the higher change fail rate; then the name.
 */
export function compareAttention(a: RepositorySummary, b: RepositorySummary): number {
  const rank = (summary: RepositorySummary) =>
    summary.attention.worst_level === null
      ? LEVELS.length
      : (LEVEL_RANK.get(summary.attention.worst_level) ?? LEVELS.length);
  const failRate = (summary: RepositorySummary) => summary.metrics.change_failure_rate.value ?? -1;
  return (
    rank(a) - rank(b) ||
    b.attention.at_worst_level.length - a.attention.at_worst_level.length ||
    b.attention.open_failures - a.attention.open_failures ||
    failRate(b) - failRate(a) ||
    compareText(a.repository, b.repository)
  );
}

/** One repository's summary entry from its own summary. */
export function repositorySummary(
  repository: string,
  events: RepositoryEvents,
  summary: Pick<Summary, 'metrics'>,
  excludedChanges: number,
): RepositorySummary {
  const metrics = Object.fromEntries(
    Object.entries(summary.metrics).map(([name, metric]) => [name, withoutVocabulary(metric)]),
  ) as RepositorySummary['metrics'];
  return {
    repository,
    team: events.deployments.find((deployment) => deployment.team !== null)?.team ?? null,
    attention: attentionOf(summary.metrics),
    excluded_changes: excludedChanges,
    metrics,
  };
}
