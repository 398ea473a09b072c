/** What the API's routes answer, as the page reads it (the shapes of lib/openapi). No DOM here: the
 * browser suite imports it too. */

export const METRIC_NAMES = [
  'deployment_frequency',
  'lead_time_for_changes',
  'change_failure_rate',
  'time_to_restore_service',
  'rework_rate',
] as const;
export type MetricName = (typeof METRIC_NAMES)[number];
export type Level = 'elite' | 'high' | 'medium' | 'low';
export type RankedLevel = Exclude<Level, 'low'>;
export interface Bound {
  comparison: '<' | '<=' | '>' | '>=';
  value: number;
}
export type MetricBounds = Partial<Record<RankedLevel, Bound>>;

export interface MetricSummary {
  value: number | null;
  count: number;
  unit: 'deployments/day' | 'seconds' | 'ratio';
  level: Level | null;
  previous_value: number | null;
  previous_count: number;
  trend: 'up' | 'down' | 'flat' | null;
  change_ratio: number | null;
  improved: boolean | null;
  failed?: number;
  open?: number;
  p75?: number | null;
  p90?: number | null;
}

export interface PeriodSummary {
  start: string;
  end: string;
  start_date: string;
  end_date: string;
}

export interface Summary {
  period: PeriodSummary;
  previous_period: PeriodSummary;
  levels_source: string;
  levels_report_year: number | null;
  levels_thresholds?: Partial<Record<MetricName, MetricBounds>>;
  metrics: Record<MetricName, MetricSummary>;
}

export interface MetricPoint {
  date: string | null;
  value: number | null;
  count: number;
  failed?: number;
  days?: number;
}

export interface DeploymentRecord {
  repository: string;
  team: string | null;
  title: string | null;
  user: string | null;
  sha: string;
  status: boolean;
  failed_at: string | null;
  merged_at: string | null;
  created_at: string;
  fixed_at: string | null;
  fixed_url: string | null;
  deploy_url: string;
  issue_url: string | null;
  change_url: string;
}

export interface Team {
  name: string;
  repositories: string[];
}

export interface GitOpsStatus {
  repo: string;
  server: string;
  sync_status: 'SYNCED' | 'OUT_OF_SYNC';
  drift_count: number;
  files: Array<{ name: string }>;
  last_check: string;
  updated_at: string;
}
