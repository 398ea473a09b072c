import type { MetricName } from './metrics';

/**
 * DORA's current vocabulary for the five software delivery performance metrics (dora.dev's guide, updated
 * January 2026): three measure throughput, two instability, and recovery is "failed deployment recovery
 * time". The API's metric names stay as they were (`time_to_restore_service`, ...) so no client breaks;
 * the summary also answers under the current name.
 */

export const DORA_GUIDE_URL = 'https://dora.dev/guides/dora-metrics/';

/** DORA's current name for time to restore service, served beside the old key in the summary. */
export const RECOVERY_ALIAS = 'failed_deployment_recovery_time';

export type SummaryMetricName = MetricName | typeof RECOVERY_ALIAS;

export type MetricCategory = 'throughput' | 'instability';

export interface MetricVocabulary {
  /** DORA's name of the metric. */
  dora_name: string;
  category: MetricCategory;
  /** What DORA measures, and how this API measures it, in one sentence. */
  definition: string;
  /** The DORA page the definition follows. */
  definition_url: string;
}

const entry = (dora_name: string, category: MetricCategory, definition: string): MetricVocabulary => ({
  dora_name,
  category,
  definition,
  definition_url: DORA_GUIDE_URL,
});

export const VOCABULARY: Record<MetricName, MetricVocabulary> = {
  lead_time_for_changes: entry(
    'Change lead time',
    'throughput',
    'Time for a change to reach production: here from the merge of its pull request to the first successful production deployment that shipped it (median).',
  ),
  deployment_frequency: entry(
    'Deployment frequency',
    'throughput',
    'How often changes are deployed: successful production deployments per day of the period.',
  ),
  time_to_restore_service: entry(
    'Failed deployment recovery time',
    'throughput',
    'Time to recover from a deployment that failed and needed immediate intervention: from failed_at to fixed_at (median); failures not recovered yet count as open.',
  ),
  change_failure_rate: entry(
    'Change fail rate',
    'instability',
    'Share of deployments that needed immediate intervention: deployments that failed or that an incident was raised against, of all production deployments.',
  ),
  rework_rate: entry(
    'Deployment rework rate',
    'instability',
    'Share of deployments that were unplanned, made because of an incident in production: deployments that restored a failure, of all production deployments.',
  ),
};

/** The metrics of each DORA category, in DORA's order, under the summary's current names. */
export const CATEGORIES: Record<MetricCategory, readonly SummaryMetricName[]> = {
  throughput: ['lead_time_for_changes', 'deployment_frequency', RECOVERY_ALIAS],
  instability: ['change_failure_rate', 'rework_rate'],
};
