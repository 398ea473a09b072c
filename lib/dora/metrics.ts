import { type Bucket, bucketIndexOf, bucketsOf, daysIn, type Interval } from './buckets';
import { compareText, groupBy } from './collections';
import { durationPercentiles } from './percentiles';
import type { EpochMs, MergeEvent, ProductionDeployment, TimeRange } from './types';

/**
 * The five DORA metrics over production deployments (lib/dora/records.ts) and merged pull requests,
 * as docs/metrics.md defines them. Pure: the same input always gives the same series.
 * Every statistic is taken over the raw events of a bucket, never over other buckets' results.
 */

export const METRICS = [
  'deployment_frequency',
  'lead_time_for_changes',
  'change_failure_rate',
  'time_to_restore_service',
  'rework_rate',
] as const;
export type MetricName = (typeof METRICS)[number];

export const METRIC_UNITS: Record<MetricName, 'deployments/day' | 'seconds' | 'ratio'> = {
  deployment_frequency: 'deployments/day',
  lead_time_for_changes: 'seconds',
  change_failure_rate: 'ratio',
  time_to_restore_service: 'seconds',
  rework_rate: 'ratio',
};

export interface MetricPoint {
  /** First day of the bucket (`YYYY-MM-DD`), null for `interval=all`. */
  date: string | null;
  /** In METRIC_UNITS; null when the bucket has nothing to measure (0 for deployment_frequency). */
  value: number | null;
  /** How many events `value` is computed over (see each metric). */
  count: number;
  /** deployment_frequency: days of the bucket inside the range. */
  days?: number;
  /** change_failure_rate: failed deployments (`count` is all deployments). */
  failed?: number;
  /** rework_rate: deployments that fixed a failure (`count` is all deployments). */
  rework?: number;
  /** time_to_restore_service: failures that began in the bucket and were not restored by the range's end. */
  open?: number;
  /** Durations: percentiles in seconds (p50 equals `value`). */
  p50?: number | null;
  p75?: number | null;
  p90?: number | null;
}

export interface MetricInput {
  /** Production deployments; those created outside `range` still serve as earlier deliverers and failures. */
  deployments: readonly ProductionDeployment[];
  /** Merged pull requests, including those merged before the range (lead time). */
  merges: readonly MergeEvent[];
  /** Deployments that deliver merges for lead time; default `deployments` (see lib/dora/authors.ts). */
  deliverers?: readonly ProductionDeployment[];
  range: TimeRange;
  interval: Interval;
}

const SECOND_MS = 1000;

/** The metric's series: one point per bucket of the range, in time order, empty buckets included. */
export function computeMetric(name: MetricName, input: MetricInput): MetricPoint[] {
  const buckets = bucketsOf(input.range, input.interval);
  switch (name) {
    case 'deployment_frequency':
      return deploymentFrequency(buckets, input.deployments);
    case 'lead_time_for_changes':
      return leadTimeForChanges(buckets, input.deliverers ?? input.deployments, input.merges);
    case 'change_failure_rate':
      return changeFailureRate(buckets, input.deployments);
    case 'time_to_restore_service':
      return timeToRestoreService(buckets, input.deployments, input.range);
    case 'rework_rate':
      return reworkRate(buckets, input.deployments);
  }
}

/** Groups items into per-bucket lists by one instant of each; items outside every bucket are left out. */
function groupByBucket<T>(
  buckets: readonly Bucket[],
  items: Iterable<T>,
  timeOf: (item: T) => EpochMs | null,
): T[][] {
  const groups = buckets.map((): T[] => []);
  for (const item of items) {
    const time = timeOf(item);
    if (time === null) continue;
    const index = bucketIndexOf(buckets, time);
    if (index >= 0) groups[index]?.push(item);
  }
  return groups;
}

function ratio(part: number, whole: number): number | null {
  return whole === 0 ? null : part / whole;
}

/** Whole milliseconds, in seconds: interpolation below a millisecond is noise (`66310.70000000003`). */
function toSeconds(ms: number | null): number | null {
  return ms === null ? null : Math.round(ms) / SECOND_MS;
}

function durationPoint(date: string | null, durationsMs: number[]): MetricPoint {
  const { p50, p75, p90 } = durationPercentiles(durationsMs);
  const median = toSeconds(p50);
  return {
    date,
    value: median,
    count: durationsMs.length,
    p50: median,
    p75: toSeconds(p75),
    p90: toSeconds(p90),
  };
}

function deploymentFrequency(buckets: Bucket[], deployments: readonly ProductionDeployment[]): MetricPoint[] {
  const successful = deployments.filter((deployment) => deployment.success);
  const groups = groupByBucket(buckets, successful, (deployment) => deployment.createdAt);
  return buckets.map((bucket, index) => {
    const count = groups[index]?.length ?? 0;
    const days = daysIn(bucket);
    return { date: bucket.date, value: count / days, count, days };
  });
}

function changeFailureRate(buckets: Bucket[], deployments: readonly ProductionDeployment[]): MetricPoint[] {
  const groups = groupByBucket(buckets, deployments, (deployment) => deployment.createdAt);
  return buckets.map((bucket, index) => {
    const inBucket = groups[index] ?? [];
    const failed = inBucket.filter((deployment) => deployment.failedAt !== null).length;
    return { date: bucket.date, value: ratio(failed, inBucket.length), count: inBucket.length, failed };
  });
}

function reworkRate(buckets: Bucket[], deployments: readonly ProductionDeployment[]): MetricPoint[] {
  const groups = groupByBucket(buckets, deployments, (deployment) => deployment.createdAt);
  return buckets.map((bucket, index) => {
    const inBucket = groups[index] ?? [];
    const rework = inBucket.filter((deployment) => deployment.fixesFailure).length;
    return { date: bucket.date, value: ratio(rework, inBucket.length), count: inBucket.length, rework };
  });
}

/**
 * Restored failures count in the bucket of their `fixedAt`; a failure not restored by the end of the
 * range counts as open in the bucket of its `failedAt`.
 */
function timeToRestoreService(
  buckets: Bucket[],
  deployments: readonly ProductionDeployment[],
  range: TimeRange,
): MetricPoint[] {
  const failures = deployments.filter((deployment) => deployment.failedAt !== null);
  const restored = groupByBucket(buckets, failures, (failure) => failure.fixedAt);
  const open = groupByBucket(
    buckets,
    failures.filter((failure) => failure.fixedAt === null || failure.fixedAt >= range.end),
    (failure) => failure.failedAt,
  );
  return buckets.map((bucket, index) => {
    const durations = (restored[index] ?? []).map(
      (failure) => (failure.fixedAt as EpochMs) - (failure.failedAt as EpochMs),
    );
    return { ...durationPoint(bucket.date, durations), open: open[index]?.length ?? 0 };
  });
}

function leadTimeForChanges(
  buckets: Bucket[],
  deployments: readonly ProductionDeployment[],
  merges: readonly MergeEvent[],
): MetricPoint[] {
  const groups = groupByBucket(buckets, deliveries(deployments, merges), (delivery) => delivery.deliveredAt);
  return buckets.map((bucket, index) =>
    durationPoint(
      bucket.date,
      (groups[index] ?? []).map((delivery) => delivery.deliveredAt - delivery.mergedAt),
    ),
  );
}

export interface Delivery {
  merge: MergeEvent;
  mergedAt: EpochMs;
  /** `createdAt` of the delivering deployment. */
  deliveredAt: EpochMs;
  deployment: ProductionDeployment;
}

/**
 * The delivering deployment of every merged pull request that has one (metrics.md, linear default
 * branch): the earliest successful production deployment of its repository, in `createdAt` order,
 * whose ship point is at or after the merge. A deployment's ship point is the merge time of the pull
 * request it deployed the merge commit of, else its own `createdAt` (a direct push or unknown commit);
 * never later than its `createdAt`, since nothing merged after a deployment started can be in it.
 *
 * Ship points are not monotonic (a rollback redeploys an old commit), but their running maximum is,
 * and the first deployment whose ship point reaches a merge is the first whose running maximum does.
 * With merges sorted too, one forward pass per repository finds every delivery: O(n log n) overall.
 */
export function deliveries(
  deployments: readonly ProductionDeployment[],
  merges: readonly MergeEvent[],
): readonly Delivery[] {
  // A summary asks for the same deployments and merges twice (its period and the one before): matching
  // them is most of its lead time's cost (~0.1 s for a year of 300 repositories), so it is done once.
  // Keyed by the arrays themselves: loaded events are never changed after they are built.
  let byMerges = deliveriesMemo.get(deployments);
  if (byMerges === undefined) {
    byMerges = new WeakMap();
    deliveriesMemo.set(deployments, byMerges);
  }
  let result = byMerges.get(merges);
  if (result === undefined) {
    result = matchDeliveries(deployments, merges);
    byMerges.set(merges, result);
  }
  return result;
}

const deliveriesMemo = new WeakMap<
  readonly ProductionDeployment[],
  WeakMap<readonly MergeEvent[], readonly Delivery[]>
>();

function matchDeliveries(
  deployments: readonly ProductionDeployment[],
  merges: readonly MergeEvent[],
): Delivery[] {
  const successfulByRepository = groupBy(
    deployments.filter((deployment) => deployment.success),
    (deployment) => deployment.repository,
  );
  const mergesByRepository = groupBy(merges, (merge) => merge.repository);

  const result: Delivery[] = [];
  for (const [repository, repositoryMerges] of mergesByRepository) {
    const shipped = successfulByRepository.get(repository);
    if (!shipped) continue;
    shipped.sort((a, b) => a.createdAt - b.createdAt);
    let runningMaximum = Number.NEGATIVE_INFINITY;
    const reach = shipped.map((deployment) => {
      const shipPoint = Math.min(deployment.merge?.mergedAt ?? deployment.createdAt, deployment.createdAt);
      runningMaximum = Math.max(runningMaximum, shipPoint);
      return runningMaximum;
    });

    repositoryMerges.sort((a, b) => a.mergedAt - b.mergedAt || compareText(a.sha, b.sha));
    let next = 0;
    let previous: MergeEvent | undefined;
    for (const merge of repositoryMerges) {
      // The same pull request may be logged twice; it is delivered once.
      if (previous && previous.mergedAt === merge.mergedAt && previous.sha === merge.sha) continue;
      previous = merge;
      while (next < shipped.length && (reach[next] as number) < merge.mergedAt) next += 1;
      const deployment = shipped[next];
      if (!deployment) break; // merged after the last deployment's reach: not delivered yet, nor are later ones
      result.push({ merge, mergedAt: merge.mergedAt, deliveredAt: deployment.createdAt, deployment });
    }
  }
  return result;
}
