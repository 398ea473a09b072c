import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
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
  webhookBacklog: 'WebhookBacklog',
  webhookBacklogAge: 'WebhookBacklogAge',
  webhookDeadLetters: 'WebhookDeadLetters',
  webhooksForwarded: 'WebhooksForwarded',
  webhooksForwardFailed: 'WebhooksForwardFailed',
  webhooksDeadLettered: 'WebhooksDeadLettered',
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

/**
 * What one Loki fetch cost, as the Loki reader counts it (its FetchStats, lib/loki/types.ts, has these and
 * more): declared here so that recording figures needs nothing of the reader.
 */
export interface LokiFetchFigures {
  requests: number;
  pages: number;
  lines: number;
  /** Lines that were not JSON or lacked what their kind of event needs. */
  skippedLines: number;
  /** Wall time spent waiting on Loki (summed over concurrent requests). */
  lokiMs: number;
}

/** What one Loki fetch cost: pages, lines, skipped lines, requests and the time spent waiting. */
export function recordLokiFetch(stats: LokiFetchFigures): void {
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

/**
 * One forward of the webhook outbox (lib/webhooks/store-outbox.ts), published at once as its own EMF line
 * (dimension `route` = `webhooks-replay`): what it forwarded, kept and dead-lettered, and the backlog after
 * it. Alarm on WebhookBacklogAge (oldest pending delivery, seconds) and on WebhookDeadLetters above 0.
 */
export function recordWebhookOutbox(
  forward: { forwarded: number; failed: number; deadLettered: number },
  backlog: { pending: number; deadLettered: number; oldestPendingAgeSeconds: number | null },
): void {
  const metrics = getMetrics();
  if (!metrics) return;
  metrics.addDimension('route', 'webhooks-replay');
  metrics.addMetric(METRIC_NAMES.webhooksForwarded, MetricUnit.Count, forward.forwarded);
  metrics.addMetric(METRIC_NAMES.webhooksForwardFailed, MetricUnit.Count, forward.failed);
  metrics.addMetric(METRIC_NAMES.webhooksDeadLettered, MetricUnit.Count, forward.deadLettered);
  metrics.addMetric(METRIC_NAMES.webhookBacklog, MetricUnit.Count, backlog.pending);
  metrics.addMetric(METRIC_NAMES.webhookDeadLetters, MetricUnit.Count, backlog.deadLettered);
  metrics.addMetric(METRIC_NAMES.webhookBacklogAge, MetricUnit.Seconds, backlog.oldestPendingAgeSeconds ?? 0);
  metrics.publishStoredMetrics();
}

/** For tests that switch metrics on and off through the environment. */
export function resetMetricsForTests(): void {
  instance = undefined;
  enabled = undefined;
}
