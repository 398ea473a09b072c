import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { FetchStats } from '../loki/types';
import { metricsEnabled } from './settings';

/**
 * The API's figures about itself, as CloudWatch embedded metric format (EMF) lines on stdout: one JSON
 * line per request, namespace DoraApi, dimension `route`. The same figures `npm run bench` prints, so
 * operators can compare production with the benchmark. Each helper is a no-op while metrics are off.
 */
export const METRICS_NAMESPACE = 'DoraApi';

export const METRIC_NAMES = {
  latency: 'Latency',
  lokiRequests: 'LokiRequests',
  lokiPages: 'LokiPages',
  lokiLines: 'LokiLines',
  skippedLines: 'SkippedLines',
  lokiWait: 'LokiWaitTime',
  cacheHit: 'CacheHit',
  cacheMiss: 'CacheMiss',
  gitHubRequests: 'GitHubRequests',
  serverErrors: 'ServerErrors',
  clientErrors: 'ClientErrors',
  webhookDeliveries: 'WebhookDeliveries',
} as const;

let instance: Metrics | undefined;
let enabled: boolean | undefined;

/** The Metrics of this container, or undefined while metrics are off. */
export function getMetrics(): Metrics | undefined {
  enabled ??= metricsEnabled();
  if (!enabled) return undefined;
  instance ??= new Metrics({
    namespace: METRICS_NAMESPACE,
    serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'dora-api',
  });
  return instance;
}

/** What one Loki fetch cost: pages, lines, skipped lines, requests and the time spent waiting. */
export function recordLokiFetch(stats: FetchStats): void {
  const metrics = getMetrics();
  if (!metrics) return;
  metrics.addMetric(METRIC_NAMES.lokiRequests, MetricUnit.Count, stats.requests);
  metrics.addMetric(METRIC_NAMES.lokiPages, MetricUnit.Count, stats.pages);
  metrics.addMetric(METRIC_NAMES.lokiLines, MetricUnit.Count, stats.lines);
  metrics.addMetric(METRIC_NAMES.skippedLines, MetricUnit.Count, stats.skippedLines);
  metrics.addMetric(METRIC_NAMES.lokiWait, MetricUnit.Milliseconds, Math.round(stats.lokiMs));
}

/** A lookup in one of the in-memory caches (`cache` names which, as EMF metadata). */
export function recordCacheLookup(cache: 'data' | 'teams' | 'services', hit: boolean): void {
  const metrics = getMetrics();
  if (!metrics) return;
  metrics.addMetric(hit ? METRIC_NAMES.cacheHit : METRIC_NAMES.cacheMiss, MetricUnit.Count, 1);
  metrics.addMetadata('cache', cache);
}

export function recordGitHubRequest(): void {
  getMetrics()?.addMetric(METRIC_NAMES.gitHubRequests, MetricUnit.Count, 1);
}

/**
 * One GitHub webhook delivery, by event and outcome (written, duplicate, queued, ignored, ...): its own EMF
 * line, so these dimensions do not join the route's latency and error metrics.
 */
export function recordWebhookDelivery(event: string, outcome: string): void {
  const metrics = getMetrics();
  if (!metrics) return;
  const single = metrics.singleMetric();
  single.addDimensions({ event, outcome });
  single.addMetric(METRIC_NAMES.webhookDeliveries, MetricUnit.Count, 1);
}

/** For tests that switch metrics on and off through the environment. */
export function resetMetricsForTests(): void {
  instance = undefined;
  enabled = undefined;
}
