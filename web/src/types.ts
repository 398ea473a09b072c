/**
 * What the API's routes answer, as the page reads it: the API's own types (type-only imports, so
 * nothing of lib/ is bundled but the list of metric names). No DOM here: the browser suite imports it too.
 */
import type { Team as DirectoryTeam } from '../../lib/dora/types';

export type { Bound, Level, MetricBounds, RankedLevel } from '../../lib/dora/bounds';
export { METRICS as METRIC_NAMES, type MetricName, type MetricPoint } from '../../lib/dora/metrics';
export type { MetricSummary, PeriodSummary } from '../../lib/dora/summary';

import type { RepositorySummary } from '../../lib/dora/per-repository';
import type { Summary as PeriodsSummary } from '../../lib/dora/summary';

/** GET /metrics/summary: the summary of the two periods and which authors' changes it left out. */
export type Summary = PeriodsSummary & {
  excluded_authors: string[];
  excluded_changes: number;
  /** With group_by=repository: each repository of the view, what needs attention first. */
  repositories?: RepositorySummary[];
};
export type { DeploymentRecord } from '../../lib/dora/types';
export type { GitOpsStatus } from '../../lib/status/schema';

/** GET /teams answers names and repositories (not GitHub's slug). */
export type Team = Pick<DirectoryTeam, 'name' | 'repositories'>;
